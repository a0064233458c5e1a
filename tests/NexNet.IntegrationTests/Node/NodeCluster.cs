using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;

namespace NexNet.IntegrationTests.Node;

/// <summary>Real nodes in this process on 127.0.0.1 with port 0, each with its own data dir, sharing one network and volume secret.</summary>
internal sealed class NodeCluster : IAsyncDisposable
{
    private readonly List<(NexNetNode Node, TempDirectory Dir)> _nodes = [];

    public byte[] NetworkSecret { get; } = RandomNumberGenerator.GetBytes(32);

    public byte[] VolumeSecret { get; } = RandomNumberGenerator.GetBytes(32);

    public List<LogCapture> Logs { get; } = [];

    public string Dump() => string.Join('\n', Logs.Select(l => l.Dump()));

    public IReadOnlyList<NexNetNode> Nodes => [.. _nodes.Select(n => n.Node)];

    public NexNetNode this[int index] => _nodes[index].Node;

    public string DataDirectory(int index) => _nodes[index].Dir.Path;

    /// <summary>Starts a node bootstrapped to every node started before it.</summary>
    public NexNetNode Add(bool member = true, int replicationFactor = 3, Action<NodeOptions>? configure = null)
    {
        var dir = new TempDirectory();
        KeyFile.Write(dir.Combine(NexNetNode.NetworkKeyFile), NetworkSecret);
        if (member)
        {
            KeyFile.Write(dir.Combine(NexNetNode.VolumeKeyFile), VolumeSecret);
        }
        else
        {
            KeyFile.WritePublic(dir.Combine(NexNetNode.VolumePublicKeyFile), VolumePublicKeys.Of(VolumeSecret));
        }

        NodeOptions options = FastNodeOptions.Create(_nodes.Select(n => n.Node.Address), replicationFactor);
        configure?.Invoke(options);
        var log = new LogCapture($"node{_nodes.Count}");
        Logs.Add(log);
        NexNetNode node = NexNetNode.Start(dir.Path, options, log);
        _nodes.Add((node, dir));
        return node;
    }

    public static async Task<NodeCluster> StartAsync(int count, int replicationFactor = 3, Action<NodeOptions>? configure = null)
    {
        var cluster = new NodeCluster();
        for (int i = 0; i < count; i++)
        {
            cluster.Add(replicationFactor: replicationFactor, configure: configure);
        }

        await cluster.WaitForMeshAsync();
        return cluster;
    }

    public Task WaitForMeshAsync() =>
        Eventually.WaitAsync(() => Nodes.All(n => n.Network.Peers.Count == _nodes.Count - 1), TimeSpan.FromSeconds(15), $"{_nodes.Count} nodes form a full mesh");

    /// <summary>Every node's replication queue is empty.</summary>
    public Task WaitForReplicationAsync(TimeSpan deadline) =>
        Eventually.WaitAsync(() => Nodes.All(n => n.Status().ReplicationBacklogChunks == 0), deadline, "every replication queue drains",
            () => string.Join('\n', Nodes.Select((n, i) => $"node{i}: backlog {n.Status().ReplicationBacklogChunks} chunks")) + "\n" + Dump());

    public async ValueTask DisposeAsync()
    {
        foreach ((NexNetNode node, TempDirectory dir) in _nodes)
        {
            await node.DisposeAsync();
            dir.Dispose();
        }
    }
}
