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
/// writer's replication queue is empty); prints <c>MiB/s writerRssMiB childRssMiB childRssMiB</c>.
/// <c>node small COUNT SIZE</c>: COUNT files of SIZE bytes, one after another, until all are replicated;
/// prints files per second. Both run an untimed warm-up first: 256 MiB (as the bare TLS reference gets) / 100 files.
/// </summary>
public static class NodeThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        switch (args)
        {
            case ["serve", string dir, .. var bootstrap]:
                return await ServeAsync(dir, bootstrap);
            case ["store", string bytes]:
                return await MeasureAsync(async volume =>
                {
                    await StoreAsync(volume, 256L << 20, 1);
                    var clock = Stopwatch.StartNew();
                    await StoreAsync(volume, long.Parse(bytes, CultureInfo.InvariantCulture), 2);
                    return long.Parse(bytes, CultureInfo.InvariantCulture) / 1048576.0 / clock.Elapsed.TotalSeconds;
                });
            case ["small", string count, string size]:
                return await MeasureAsync(async volume =>
                {
                    await SmallFilesAsync(volume, "warm", 100, int.Parse(size, CultureInfo.InvariantCulture));
                    var clock = Stopwatch.StartNew();
                    await SmallFilesAsync(volume, "timed", int.Parse(count, CultureInfo.InvariantCulture), int.Parse(size, CultureInfo.InvariantCulture));
                    return int.Parse(count, CultureInfo.InvariantCulture) / clock.Elapsed.TotalSeconds;
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
            Console.WriteLine(line == "rss" ? PeakRssMiB().ToString(CultureInfo.InvariantCulture) : $"blobs {node.Status().Blobs}");
        }

        return 0;
    }

    private static async Task<int> MeasureAsync(Func<Volume, Task<double>> measure)
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

            double figure = await measure(writer.Volume!);
            var rss = new List<long> { PeakRssMiB() };
            foreach (Process child in children)
            {
                await child.StandardInput.WriteLineAsync("rss");
                rss.Add(long.Parse((await child.StandardOutput.ReadLineAsync())!, CultureInfo.InvariantCulture));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{figure:F0} {string.Join(' ', rss)}"));
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
