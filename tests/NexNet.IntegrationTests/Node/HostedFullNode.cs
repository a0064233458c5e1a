using System.Globalization;
using NexNet.Crypto;

namespace NexNet.IntegrationTests.Node;

/// <summary>A full node in its own process (the test host's node mode), driven by commands over stdin.</summary>
internal sealed class HostedFullNode : HostedProcess
{
    private int _nextTag;

    private HostedFullNode(string name, TempDirectory dir, ChildProcess process, string address, string id) : base(name, dir, process, address, id)
    {
    }

    public string Log => $"--- {Name} ---\n" + string.Join('\n', Process.Lines.TakeLast(200));

    /// <summary>A member with <paramref name="volumeSecret"/>; without it, a storage peer that holds <paramref name="volumePublicKey"/> (as its invite gives it) if any.</summary>
    public static async Task<HostedFullNode> StartAsync(string name, byte[] networkSecret, byte[]? volumeSecret, int replicationFactor, byte[]? volumePublicKey,
        params string[] bootstrap)
    {
        var dir = new TempDirectory();
        KeyFile.Write(dir.Combine("network.key"), networkSecret);
        if (volumeSecret is not null)
        {
            KeyFile.Write(dir.Combine("volume.key"), volumeSecret);
        }
        else if (volumePublicKey is not null)
        {
            KeyFile.WritePublic(dir.Combine("volume.pub"), volumePublicKey);
        }

        (ChildProcess process, string address, string id) = await LaunchAsync("node", dir, [replicationFactor.ToString(CultureInfo.InvariantCulture), .. bootstrap]);
        return new HostedFullNode(name, dir, process, address, id);
    }

    /// <summary>Runs one command and returns what followed "ok"; throws with the node's log when it answered "error".</summary>
    public async Task<string> RunAsync(string command, TimeSpan? timeout = null)
    {
        string tag = "c" + Interlocked.Increment(ref _nextTag).ToString(CultureInfo.InvariantCulture);
        Process.WriteLine($"{tag} {command}");
        string line = await Process.WaitForLineAsync(l => l.StartsWith(tag + " ", StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(60), $"an answer to '{command}'");
        string rest = line[(tag.Length + 1)..];
        return rest.StartsWith("ok", StringComparison.Ordinal)
            ? rest[2..].Trim()
            : throw new InvalidOperationException($"{Name}: '{command}' failed: {rest}\n{Log}");
    }

    public async Task<HashSet<string>> ChunksAsync() => [.. (await RunAsync("chunks")).Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    public async Task<Dictionary<string, long>> StatusAsync() =>
        (await RunAsync("status")).Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));

}

/// <summary>Node processes on loopback sharing one network (and, for members, one volume) secret.</summary>
internal sealed class HostedFullNodeCluster : IDisposable
{
    private readonly List<HostedFullNode> _nodes = [];

    public byte[] NetworkSecret { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public byte[] VolumeSecret { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public int ReplicationFactor { get; init; } = 3;

    public IReadOnlyList<HostedFullNode> Nodes => _nodes;

    public HostedFullNode this[int index] => _nodes[index];

    public string Logs => string.Join('\n', _nodes.Select(n => n.Log));

    /// <summary>Starts a node bootstrapped to every live node started before it.</summary>
    public async Task<HostedFullNode> AddAsync(string name, bool member = true)
    {
        HostedFullNode node = await HostedFullNode.StartAsync(name, NetworkSecret, member ? VolumeSecret : null, ReplicationFactor, VolumePublicKeys.Of(VolumeSecret),
            [.. _nodes.Where(n => !n.Process.HasExited).Select(n => n.Address)]);
        _nodes.Add(node);
        return node;
    }

    public static async Task<HostedFullNodeCluster> StartAsync(int count, int replicationFactor = 3)
    {
        var cluster = new HostedFullNodeCluster { ReplicationFactor = replicationFactor };
        for (int i = 0; i < count; i++)
        {
            await cluster.AddAsync(((char)('A' + i)).ToString());
        }

        await cluster.WaitForMeshAsync();
        return cluster;
    }

    public IEnumerable<HostedFullNode> Live => _nodes.Where(n => !n.Process.HasExited);

    public async Task WaitForMeshAsync()
    {
        int count = Live.Count();
        await WaitAllAsync(async n => (await n.StatusAsync())["peers"] == count - 1, TimeSpan.FromSeconds(20), $"{count} nodes form a full mesh");
    }

    /// <summary>Waits until <paramref name="condition"/> holds on every live node.</summary>
    public async Task WaitAllAsync(Func<HostedFullNode, Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (true)
        {
            bool all = true;
            foreach (HostedFullNode node in Live)
            {
                all &= await condition(node);
            }

            if (all)
            {
                return;
            }

            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"within {deadline.TotalSeconds:F0} s, this never happened: {what}\n{Logs}");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    public Task WaitForReplicationAsync(TimeSpan deadline) =>
        WaitAllAsync(async n => (await n.StatusAsync())["backlog"] == 0, deadline, "every replication queue drains");

    /// <summary>
    /// Waits until exactly <paramref name="chunks"/> chunks exist and each has <paramref name="copies"/>
    /// copies on the live nodes. Repair is part of settling: a node counted out for a moment under load
    /// (tests use a 3 s dead-after) gets its copies back once it is counted in again.
    /// </summary>
    public async Task WaitForCopiesAsync(int chunks, int copies, TimeSpan deadline)
    {
        Dictionary<string, int> held = [];
        try
        {
            await Eventually.WaitAsync(async () => (held = await CopiesAsync()).Count == chunks && held.Values.All(n => n == copies), deadline,
                $"{chunks} chunks with {copies} copies each");
        }
        catch (TimeoutException e)
        {
            string spread = string.Join(", ", held.Values.GroupBy(n => n).OrderBy(g => g.Key).Select(g => $"{g.Count()} chunks with {g.Key}"));
            throw new TimeoutException($"{e.Message}: {held.Count} chunks, {spread}\n{Logs}", e);
        }
    }

    /// <summary>How many live nodes hold each chunk.</summary>
    public async Task<Dictionary<string, int>> CopiesAsync()
    {
        var copies = new Dictionary<string, int>();
        foreach (HostedFullNode node in Live)
        {
            foreach (string chunk in await node.ChunksAsync())
            {
                copies[chunk] = copies.GetValueOrDefault(chunk) + 1;
            }
        }

        return copies;
    }

    public void Dispose()
    {
        foreach (HostedFullNode node in _nodes)
        {
            node.Dispose();
        }
    }
}
