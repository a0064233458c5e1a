using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Benchmarks;

/// <summary>
/// Replication through real nodes on loopback: this process is the writer node, two child processes
/// (this program's <c>node serve</c>) are the other owners; R = 3.
/// <c>node store BYTES</c>: seconds from the start of a write until every chunk has its R copies (the
/// writer's replication queue is empty); prints <c>MiB/s writerRssMiB childRssMiB childRssMiB cpuSecondsPerGiB</c>,
/// the last the CPU time of all three processes over the timed run (a figure the disk's speed does not move).
/// <c>node small COUNT SIZE</c>: COUNT files of SIZE bytes, one after another, until all are replicated;
/// prints files per second, the RSS figures and CPU milliseconds per file. Both first run untimed warm-up rounds of 256 MiB / 100 files until the JIT has settled in
/// all three processes (<see cref="JitWarmUp"/>), as the bare TLS reference does in its process.
/// </summary>
public static class NodeThroughput
{
    private const string RssQuestion = "rss", JitQuestion = "jit", CpuQuestion = "cpu";

    public static async Task<int> RunAsync(string[] args)
    {
        switch (args)
        {
            case ["serve", string dir, .. var bootstrap]:
                return await ServeAsync(dir, bootstrap);
            case ["store", string bytes]:
                long length = long.Parse(bytes, CultureInfo.InvariantCulture);
                return await MeasureAsync(async (volume, sumOverNodes) =>
                {
                    Func<Task<double>> jitMilliseconds = () => sumOverNodes(JitQuestion);
                    await JitWarmUp.RunAsync("node store", round => StoreAsync(volume, 256L << 20, -round), jitMilliseconds);
                    return await JitWarmUp.TimedAsync("node store", async () =>
                    {
                        double cpu = await sumOverNodes(CpuQuestion);
                        var clock = Stopwatch.StartNew();
                        await StoreAsync(volume, length, 2);
                        double seconds = clock.Elapsed.TotalSeconds;
                        return (length / 1048576.0 / seconds, (await sumOverNodes(CpuQuestion) - cpu) / (length / (double)(1L << 30)));
                    }, jitMilliseconds);
                });
            case ["small", string count, string size]:
                int files = int.Parse(count, CultureInfo.InvariantCulture), fileSize = int.Parse(size, CultureInfo.InvariantCulture);
                return await MeasureAsync(async (volume, sumOverNodes) =>
                {
                    Func<Task<double>> jitMilliseconds = () => sumOverNodes(JitQuestion);
                    await JitWarmUp.RunAsync("node small", round => SmallFilesAsync(volume, $"warm{round}", 100, fileSize), jitMilliseconds);
                    return await JitWarmUp.TimedAsync("node small", async () =>
                    {
                        double cpu = await sumOverNodes(CpuQuestion);
                        var clock = Stopwatch.StartNew();
                        await SmallFilesAsync(volume, "timed", files, fileSize);
                        double seconds = clock.Elapsed.TotalSeconds;
                        return (files / seconds, (await sumOverNodes(CpuQuestion) - cpu) * 1000 / files);
                    }, jitMilliseconds);
                });
            default:
                Console.Error.WriteLine("usage: node store BYTES | node small COUNT SIZE | node serve DIR [BOOTSTRAP...]");
                return 2;
        }
    }

    private static NodeOptions Options(IEnumerable<string> bootstrap) => new()
    {
        Listen = new IPEndPoint(IPAddress.Loopback, 0),
        Bootstrap = [.. bootstrap],
        SyncInterval = TimeSpan.FromMilliseconds(500),
        ReplicationRetry = TimeSpan.FromMilliseconds(500),
    };

    private static async Task<int> ServeAsync(string dir, string[] bootstrap)
    {
        await using NexNetNode node = NexNetNode.Start(dir, Options(bootstrap));
        Console.WriteLine($"listening {node.Address}");
        while (await Console.In.ReadLineAsync() is { } line)
        {
            Console.WriteLine(Answer(line).ToString(CultureInfo.InvariantCulture));
        }

        return 0;
    }

    /// <summary>What a node process answers about itself (the writer for itself, a child over its standard input).</summary>
    private static double Answer(string question) => question switch
    {
        RssQuestion => PeakRssMiB(),
        JitQuestion => JitWarmUp.OwnMilliseconds,
        CpuQuestion => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        _ => throw new ArgumentException($"unknown question {question}", nameof(question)),
    };

    /// <summary>
    /// Starts the three nodes and runs <paramref name="measure"/> on the writer's volume, with a way to sum an
    /// <see cref="Answer"/> over all three processes. Prints the figure, each node's peak RSS and the CPU figure.
    /// </summary>
    private static async Task<int> MeasureAsync(Func<Volume, Func<string, Task<double>>, Task<(double Figure, double Cpu)>> measure)
    {
        string root = Directory.CreateTempSubdirectory("nexnet-bench-").FullName;
        byte[] network = RandomNumberGenerator.GetBytes(32), volume = RandomNumberGenerator.GetBytes(32);
        var children = new List<Process>();
        try
        {
            string[] dirs = [.. Enumerable.Range(0, 3).Select(i => Path.Combine(root, "n" + i))];
            foreach (string dir in dirs)
            {
                Directory.CreateDirectory(dir);
                KeyFile.Write(Path.Combine(dir, NexNetNode.NetworkKeyFile), network);
                KeyFile.Write(Path.Combine(dir, NexNetNode.VolumeKeyFile), volume);
            }

            await using NexNetNode writer = NexNetNode.Start(dirs[0], Options([]));
            foreach (string dir in dirs[1..])
            {
                var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["node", "serve", dir, writer.Address])
                {
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                })!;
                children.Add(child);
                await child.StandardOutput.ReadLineAsync();
            }

            while (writer.Network.Peers.Count < 2 || writer.Members.Count < 3)
            {
                await Task.Delay(20);
            }

            async Task<double> AskChildAsync(Process child, string question)
            {
                await child.StandardInput.WriteLineAsync(question);
                return double.Parse((await child.StandardOutput.ReadLineAsync())!, CultureInfo.InvariantCulture);
            }

            async Task<double> SumOverNodesAsync(string question)
            {
                double total = Answer(question);
                foreach (Process child in children)
                {
                    total += await AskChildAsync(child, question);
                }

                return total;
            }

            (double figure, double cpu) = await measure(writer.Volume!, SumOverNodesAsync);
            var rss = new List<double> { Answer(RssQuestion) };
            foreach (Process child in children)
            {
                rss.Add(await AskChildAsync(child, RssQuestion));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{figure:F0} {string.Join(' ', rss)} {cpu:F2}"));
            return 0;
        }
        finally
        {
            foreach (Process child in children)
            {
                child.StandardInput.Close();
                if (!child.WaitForExit(10_000))
                {
                    child.Kill();
                }

                child.Dispose();
            }

            if (Environment.GetEnvironmentVariable("NEXNET_BENCH_KEEP_DATA") is null) // bench/node.sh deletes them all at its end
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task StoreAsync(Volume volume, long bytes, int seed)
    {
        await volume.WriteFileAsync($"/big-{seed}", new DistinctChunkStream(bytes, seed));
        await WaitReplicatedAsync(volume);
    }

    private static async Task SmallFilesAsync(Volume volume, string folder, int count, int size)
    {
        byte[] content = new byte[size];
        for (int i = 0; i < count; i++)
        {
            RandomNumberGenerator.Fill(content);
            await volume.WriteFileAsync($"/{folder}/f{i}", new MemoryStream(content));
        }

        await WaitReplicatedAsync(volume);
    }

    private static async Task WaitReplicatedAsync(Volume volume)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (volume.ReplicationBacklog.Chunks > 0)
        {
            await timer.WaitForNextTickAsync();
        }
    }

    private static long PeakRssMiB()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>Random-looking bytes where every 1 MiB chunk differs (a random block with the chunk's index stamped in), so nothing deduplicates and generating costs nothing.</summary>
    private sealed class DistinctChunkStream(long length, int seed) : RandomAccessReadStream
    {
        private static readonly byte[] s_block = RandomNumberGenerator.GetBytes(1 << 20);

        public override long Length => length;

        protected override int ReadAt(long position, Span<byte> buffer)
        {
            for (int done = 0; done < buffer.Length;)
            {
                long at = position + done;
                int inBlock = (int)(at % s_block.Length);
                int step = Math.Min(buffer.Length - done, s_block.Length - inBlock);
                s_block.AsSpan(inBlock, step).CopyTo(buffer.Slice(done, step));
                for (int k = inBlock; k < 8 && k < inBlock + step; k++)
                {
                    buffer[done + k - inBlock] ^= (byte)((((at / s_block.Length) * 31) + seed) >> (8 * k));
                }

                done += step;
            }

            return buffer.Length;
        }
    }
}
