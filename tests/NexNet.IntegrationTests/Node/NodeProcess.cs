using System.Globalization;
using NexNet.Crypto;
using NexNet.IntegrationTests.Support;
using NexNet.Tests.Shared;

namespace NexNet.IntegrationTests.Node;

/// <summary>A full node in its own process (the test host's node mode), driven by commands over stdin.</summary>
internal sealed class NodeProcess : IDisposable
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);
    private int _nextTag;

    private NodeProcess(string name, TempDirectory dir, ChildProcess process, string address, string id)
    {
        Name = name;
        Dir = dir;
        Process = process;
        Address = address;
        Id = id;
    }

    public string Name { get; }

    public TempDirectory Dir { get; }

    public ChildProcess Process { get; }

    public string Address { get; }

    public string Id { get; }

    public string Log => $"--- {Name} ---\n" + string.Join('\n', Process.Lines.TakeLast(200));

    /// <summary>A member with <paramref name="volumeSecret"/>; without it, a storage peer that holds <paramref name="volumePublicKey"/> (as its invite gives it) if any.</summary>
    public static async Task<NodeProcess> StartAsync(string name, byte[] networkSecret, byte[]? volumeSecret, int replicationFactor, byte[]? volumePublicKey,
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

        (ChildProcess process, string address, string id) = await ChildProcess.StartListeningTestHostAsync(s_startDeadline,
            ["node", dir.Path, replicationFactor.ToString(CultureInfo.InvariantCulture), .. bootstrap]);
        return new NodeProcess(name, dir, process, address, id);
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

    public void Dispose()
    {
        Process.Dispose();
        Dir.Dispose();
    }
}

/// <summary>Node processes on loopback sharing one network (and, for members, one volume) secret.</summary>
internal sealed class NodeProcessCluster : IDisposable
{
    private readonly List<NodeProcess> _nodes = [];

    public byte[] NetworkSecret { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public byte[] VolumeSecret { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public int ReplicationFactor { get; init; } = 3;

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    public NodeProcess this[int index] => _nodes[index];

    public string Logs => string.Join('\n', _nodes.Select(n => n.Log));

    /// <summary>Starts a node bootstrapped to every live node started before it.</summary>
    public async Task<NodeProcess> AddAsync(string name, bool member = true)
    {
        NodeProcess node = await NodeProcess.StartAsync(name, NetworkSecret, member ? VolumeSecret : null, ReplicationFactor, VolumePublicKeys.Of(VolumeSecret),
            [.. _nodes.Where(n => !n.Process.HasExited).Select(n => n.Address)]);
        _nodes.Add(node);
        return node;
    }

    public static async Task<NodeProcessCluster> StartAsync(int count, int replicationFactor = 3)
    {
        var cluster = new NodeProcessCluster { ReplicationFactor = replicationFactor };
        for (int i = 0; i < count; i++)
        {
            await cluster.AddAsync(((char)('A' + i)).ToString());
        }

        await cluster.WaitForMeshAsync();
        return cluster;
    }

    public IEnumerable<NodeProcess> Live => _nodes.Where(n => !n.Process.HasExited);

    public async Task WaitForMeshAsync()
    {
        int count = Live.Count();
        await WaitAllAsync(async n => (await n.StatusAsync())["peers"] == count - 1, TimeSpan.FromSeconds(20), $"{count} nodes form a full mesh");
    }

    /// <summary>Waits until <paramref name="condition"/> holds on every live node.</summary>
    public async Task WaitAllAsync(Func<NodeProcess, Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (true)
        {
            bool all = true;
            foreach (NodeProcess node in Live)
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
        foreach (NodeProcess node in Live)
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
        foreach (NodeProcess node in _nodes)
        {
            node.Dispose();
        }
    }
}
