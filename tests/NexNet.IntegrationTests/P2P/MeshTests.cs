using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using NexNet.IntegrationTests.Support;
using NexNet.P2P;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.IntegrationTests.P2P;

/// <summary>Discovery, refusal, duplicate dials and remembered peers, with real nodes in one process.</summary>
[Collection(MeasuredTests.Name)]
public sealed class MeshTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Five_nodes_each_bootstrapped_to_the_one_before_are_all_connected_within_5_s()
    {
        byte[] network = TestNode.NewNetwork();
        var clock = Stopwatch.StartNew();
        var nodes = new List<TestNode> { TestNode.Start("n0", network) };
        try
        {
            for (int i = 1; i < 5; i++)
            {
                nodes.Add(TestNode.Start($"n{i}", network, nodes[i - 1].Address));
            }

            await Eventually.WaitAsync(() => nodes.All(n => n.Network.Peers.Count == 4), TimeSpan.FromSeconds(5) - clock.Elapsed,
                "every node connected to the 4 others");
            foreach (TestNode node in nodes)
            {
                Assert.Equal(nodes.Where(n => n != node).Select(n => n.Network.Id).Order(), node.Network.Peers.Select(p => p.RemoteId).Order());
            }
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task A_node_with_the_wrong_network_secret_is_refused_and_learns_nothing()
    {
        byte[] network = TestNode.NewNetwork();
        await using TestNode a = TestNode.Start("a", network);
        await using TestNode b = TestNode.Start("b", network, a.Address);
        await Eventually.WaitAsync(() => a.Network.Peers.Count == 1, s_deadline, "a and b connected");

        await using TestNode intruder = TestNode.Start("intruder", RandomNumberGenerator.GetBytes(32), a.Address);
        await Eventually.WaitAsync(() => a.Log.Contains("wrong network secret") && intruder.Log.Contains("refused"), s_deadline,
            "both logs say why the connection was refused");

        Assert.Contains(a.Log.Lines, l => l.Contains("refused connection from", StringComparison.Ordinal) && l.Contains("wrong network secret", StringComparison.Ordinal));
        Assert.Contains(intruder.Log.Lines, l => l.Contains(a.Address, StringComparison.Ordinal) && l.Contains("Authentication", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(intruder.Network.Peers);
        Assert.Single(a.Network.Peers);
        Assert.DoesNotContain(intruder.Log.Lines, l => l.Contains(b.Address, StringComparison.Ordinal) || l.Contains(b.Network.Id.Abbreviated, StringComparison.Ordinal));
        Assert.Equal([a.Address], intruder.Network.DialingAddresses);
    }

    [Fact]
    public async Task A_node_of_another_protocol_version_is_refused_and_both_logs_say_why()
    {
        byte[] network = TestNode.NewNetwork();
        await using TestNode a = TestNode.Start("a", network);
        PeerOptions future = TestNode.FastOptions();
        future.AdvertisedProtocolVersion = PeerOptions.ProtocolVersion + 1;
        await using TestNode newer = TestNode.Start("newer", network, future, a.Address);
        await Eventually.WaitAsync(() => a.Log.Contains("protocol version 2") && newer.Log.Contains("refused the connection: Version"), s_deadline,
            "both logs name the version mismatch");
        Assert.Empty(a.Network.Peers);
        Assert.Empty(newer.Network.Peers);
    }

    [Fact]
    public async Task Two_nodes_dialing_each_other_at_once_keep_exactly_one_connection()
    {
        byte[] network = TestNode.NewNetwork();
        for (int round = 0; round < 5; round++)
        {
            await using TestNode a = TestNode.Start("a", network);
            await using TestNode b = TestNode.Start("b", network);
            Task<PeerConnection> ab = a.Network.ConnectAsync(b.Address, TestContext.Current.CancellationToken);
            Task<PeerConnection> ba = b.Network.ConnectAsync(a.Address, TestContext.Current.CancellationToken);
            await Task.WhenAll(ab, ba);

            NodeId lower = a.Network.Id < b.Network.Id ? a.Network.Id : b.Network.Id;
            await Eventually.WaitAsync(() =>
                a.Network.Find(b.Network.Id) is { } onA && b.Network.Find(a.Network.Id) is { } onB &&
                onA.IsInitiator != onB.IsInitiator && (onA.IsInitiator ? a.Network.Id : b.Network.Id) == lower,
                s_deadline, "both sides kept the same connection, the one the lower id initiated");
            Assert.Single(a.Network.Peers);
            Assert.Single(b.Network.Peers);
        }
    }

    [Fact]
    public async Task Known_peers_are_remembered_across_a_restart()
    {
        byte[] network = TestNode.NewNetwork();
        using var dir = new TempDirectory();
        await using TestNode b = TestNode.Start("b", network);
        using NodeIdentity identity = NodeIdentity.LoadOrCreate(dir.Path);
        using (MetaStore meta = MetaStore.Open(dir.Combine("meta.db")))
        {
            await using var first = new PeerNetwork(identity, network, TestNode.FastOptions(), new LogCapture("a1"), meta);
            first.Start(new IPEndPoint(IPAddress.Loopback, 0), [b.Address]);
            await Eventually.WaitAsync(() => first.Peers.Count == 1, s_deadline, "a connected to b");
        }

        using (MetaStore meta = MetaStore.Open(dir.Combine("meta.db")))
        {
            await using var second = new PeerNetwork(identity, network, TestNode.FastOptions(), new LogCapture("a2"), meta);
            second.Start(new IPEndPoint(IPAddress.Loopback, 0), bootstrap: []);
            await Eventually.WaitAsync(() => second.Find(b.Network.Id) is not null, s_deadline, "a found b again with no bootstrap address");
        }
    }
}
