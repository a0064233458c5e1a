using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NexNet.Crypto;
using NexNet.Node;

namespace NexNet.Cli;

/// <summary>
/// The original design's demo, on the real node: three nodes in this process — :3000, :4000 bootstrapped
/// to :3000, :5000 bootstrapped to :4000 and :3000 — store a file through one, read it back through
/// another whose local copy is gone, delete it everywhere, and say what happened at each step.
/// </summary>
internal static class Demo
{
    public static readonly int[] DefaultPorts = [3000, 4000, 5000];

    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    public static bool TryParsePorts(string text, [NotNullWhen(true)] out int[]? ports)
    {
        string[] parts = text.Split(',');
        ports = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], CultureInfo.InvariantCulture, out ports[i]) || ports[i] is < 0 or > 65535)
            {
                ports = null;
                return false;
            }
        }

        return ports.Length == 3;
    }

    /// <summary>Runs the demo, narrating to <paramref name="output"/>; <paramref name="loggerOf"/> gives node i's logger (none by default: the narration says what matters).</summary>
    public static async Task<int> RunAsync(TextWriter output, int[] ports, CancellationToken cancellationToken, Func<int, ILogger>? loggerOf = null)
    {
        void Say(string line) => output.WriteLine(line);
        string root = Directory.CreateTempSubdirectory("nexnet-demo-").FullName;
        byte[] network = RandomNumberGenerator.GetBytes(32), volume = RandomNumberGenerator.GetBytes(32);
        var nodes = new List<NexNetNode>();
        try
        {
            Say($"demo: three nodes with data under {root}, one network and one volume secret (fresh, 0600)");
            string[] bootstrapOf(int i) => i switch { 0 => [], 1 => [nodes[0].Address], _ => [nodes[1].Address, nodes[0].Address] };
            for (int i = 0; i < 3; i++)
            {
                string dir = Path.Combine(root, $"node{i + 1}");
                Directory.CreateDirectory(dir);
                KeyFile.Write(Path.Combine(dir, NexNetNode.NetworkKeyFile), network);
                KeyFile.Write(Path.Combine(dir, NexNetNode.VolumeKeyFile), volume);
                var options = new NodeOptions
                {
                    Listen = new IPEndPoint(IPAddress.Loopback, ports[i]),
                    Bootstrap = bootstrapOf(i),
                    SyncInterval = TimeSpan.FromMilliseconds(500),
                    ReplicationRetry = TimeSpan.FromMilliseconds(500),
                    HistoryRetention = TimeSpan.FromMilliseconds(1), // so the demo can show collection at once; a real node keeps every version historyDays
                };
                NexNetNode node;
                try
                {
                    node = NexNetNode.Start(dir, options, loggerOf?.Invoke(i));
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    Say($"demo: cannot listen on 127.0.0.1:{ports[i]}: {e.Message} (choose other ports with --ports)");
                    return 1;
                }

                nodes.Add(node);
                string bootstrap = options.Bootstrap.Count == 0 ? "the first node" : "bootstrapped to " + string.Join(" and ", options.Bootstrap);
                Say($"node {node.Address} started: id {node.Id.Abbreviated}…, {bootstrap}");
            }

            await WaitAsync(() => nodes.All(n => n.Network.Peers.Count == 2 && n.Members.Count == 3), "the three nodes connect to each other", cancellationToken,
                () => string.Join("; ", nodes.Select(n => $"{n.Address} has peers [{string.Join(", ", n.Network.Peers.Select(p => p.RemoteListenAddress))}], " +
                    $"{n.Members.Count} members, dials [{string.Join(", ", n.Network.DialingAddresses)}]")));
            Say("all three nodes are connected to each other (a full mesh, learned by gossip)");

            NexNetNode writer = nodes[2], reader = nodes[1];
            byte[] content = RandomNumberGenerator.GetBytes(10 * 1024 * 1024 + 12345);
            var clock = Stopwatch.StartNew();
            EntryInfo file = await writer.Volume!.WriteFileAsync("/demo/photo.bin", new MemoryStream(content), cancellationToken: cancellationToken);
            Say($"stored /demo/photo.bin ({content.Length:N0} bytes) through {writer.Address} in {clock.ElapsedMilliseconds} ms: " +
                $"{file.Content!.Chunks.Length} chunks, each encrypted (AES-256-CTR, random IV) and named by a keyed BLAKE3 hash of its plaintext");
            await WaitAsync(() => nodes.All(n => n.Status().ReplicationBacklogChunks == 0) && nodes.All(n => n.Volume!.Stat(file.Path) is not null),
                "every chunk reaches its owners and the record every node", cancellationToken);
            Say("replicated: " + DescribeCopies(CountCopies(file.Content.Chunks, nodes)) + "; " +
                string.Join(", ", nodes.Select(n => $"{n.Address} holds {n.LocalChunks().Count()} chunks")));

            reader.DropLocalChunks();
            Say($"deleted every local chunk of {reader.Address} ({reader.LocalChunks().Count()} left)");
            clock.Restart();
            using var copy = new MemoryStream();
            await using (Stream read = reader.Volume!.OpenRead(file.Path))
            {
                await read.CopyToAsync(copy, cancellationToken);
            }

            bool same = content.AsSpan().SequenceEqual(copy.ToArray());
            Say($"read /demo/photo.bin back through {reader.Address} in {clock.ElapsedMilliseconds} ms: {reader.Status().ChunksFetched} chunks fetched from peers, " +
                $"each checked against its id; {(same ? "byte for byte identical" : "DIFFERENT (this is a bug)")}");
            if (!same)
            {
                return 1;
            }

            nodes[0].Volume!.Delete(file.Path);
            Say($"deleted /demo/photo.bin through {nodes[0].Address}: a tombstone record replicates like any change");
            await WaitAsync(() => nodes.All(n => n.Volume!.Stat(file.Path) is null), "the tombstone reaches every node", cancellationToken);
            Say($"history on {nodes[2].Address} still holds it: {string.Join(", ", nodes[2].Volume!.History(file.Path).Select(v => v.Change.ToString().ToLowerInvariant()))} " +
                "(nexnet restore brings it back; the demo keeps history no longer than that, so collection can be shown)");
            // Collect until no node holds a copy: a read-ahead fetch or a repair push still under way when
            // the tombstone arrived can land a copy after a pass (it is unreferenced, so the next pass takes it).
            int collected = 0;
            await WaitAsync(() =>
            {
                foreach (NexNetNode node in nodes)
                {
                    node.PruneHistory();
                    collected += node.CollectGarbage(TimeSpan.Zero);
                }

                return nodes.All(n => !n.LocalChunks().Any());
            }, "collection leaves no copy of the deleted file's chunks on any node", cancellationToken,
                () => string.Join(", ", nodes.Select(n => $"{n.Address} holds {n.LocalChunks().Count()}")));
            Say($"every node sees it gone; collection removed {collected} unreferenced chunk copies: " +
                string.Join(", ", nodes.Select(n => $"{n.Address} holds {n.LocalChunks().Count()}")));
            Say("demo: done");
            return 0;
        }
        catch (TimeoutException e)
        {
            Say($"demo: {e.Message}");
            return 1;
        }
        finally
        {
            foreach (NexNetNode node in nodes)
            {
                await node.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>How many of <paramref name="nodes"/> hold each chunk, counted in their stores (not inferred from the replication factor).</summary>
    internal static int[] CountCopies(IReadOnlyList<ChunkId> chunks, IReadOnlyList<NexNetNode> nodes)
    {
        HashSet<ChunkId>[] held = [.. nodes.Select(n => n.LocalChunks().ToHashSet())];
        return [.. chunks.Select(id => held.Count(h => h.Contains(id)))];
    }

    /// <summary>"every chunk has 3 copies" when the counts agree, else the range and how many chunks have the fewest.</summary>
    internal static string DescribeCopies(IReadOnlyList<int> copies)
    {
        if (copies.Count == 0)
        {
            return "no chunks to count";
        }

        int least = copies.Min(), most = copies.Max();
        return least == most
            ? $"every chunk has {least} {(least == 1 ? "copy" : "copies")} (counted on the nodes)"
            : $"chunks have {least} to {most} copies (counted on the nodes; {copies.Count(c => c == least)} of {copies.Count} have {least})";
    }

    private static async Task WaitAsync(Func<bool> condition, string what, CancellationToken cancellationToken, Func<string>? state = null)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > s_deadline)
            {
                string seen = state is null ? "" : $" ({state()})";
                throw new TimeoutException($"within {s_deadline.TotalSeconds:F0} s, this never happened: {what}{seen}");
            }

            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }
}
