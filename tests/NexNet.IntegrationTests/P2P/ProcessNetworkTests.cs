using System.Diagnostics;
using NexNet.IntegrationTests.Node;
using NexNet.P2P;

namespace NexNet.IntegrationTests.P2P;

/// <summary>Nodes as separate processes: discovery, a frozen node noticed by heartbeats, a killed node rejoining.</summary>
/// <remarks>
/// Run alone, like the other node-process tests: their deadlines (5 nodes meshed within 5 s of the first
/// start, a frozen node noticed within the heartbeat timeout) include starting each process, which on two
/// cores shared with the rest of the suite took over a second each (a full run on 2026-12-02 saw four starts take 4.2 s).
/// </remarks>
[Collection(NodeProcessTests.Name)]
public sealed class ProcessNetworkTests
{
    [Fact]
    public async Task Five_node_processes_bootstrapped_in_a_chain_are_all_connected_within_5_s()
    {
        byte[] network = InProcessPeer.NewNetwork();
        var nodes = new List<HostedNetworkNode>();
        try
        {
            nodes.Add(await HostedNetworkNode.StartAsync("p0", network));
            var clock = Stopwatch.StartNew();
            for (int i = 1; i < 5; i++)
            {
                nodes.Add(await HostedNetworkNode.StartAsync($"p{i}", network, nodes[i - 1].Address));
            }

            await Eventually.WaitAsync(() => nodes.All(n => n.Peers == 4), TimeSpan.FromSeconds(5) - clock.Elapsed,
                "every process connected to the 4 others\n" + string.Join('\n', nodes.Select(n => $"{n.Name}: {n.Peers}")));
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
        }
    }

    [Fact]
    public async Task A_frozen_node_is_noticed_within_the_heartbeat_timeout_and_a_killed_one_rejoins_after_restart()
    {
        byte[] network = InProcessPeer.NewNetwork();
        var nodes = new List<HostedNetworkNode>();
        try
        {
            nodes.Add(await HostedNetworkNode.StartAsync("p0", network));
            for (int i = 1; i < 4; i++)
            {
                nodes.Add(await HostedNetworkNode.StartAsync($"p{i}", network, nodes[i - 1].Address));
            }

            await using InProcessPeer observer = InProcessPeer.Start("observer", network, nodes[0].Address);
            await Eventually.WaitAsync(() => nodes.All(n => n.Peers == 4) && observer.Network.Peers.Count == 4, TimeSpan.FromSeconds(10), "a full mesh of 5");

            // Freeze p2: its sockets stay open, so only the heartbeat can tell it is gone.
            HostedNetworkNode victim = nodes[2];
            var frozenAt = Stopwatch.StartNew();
            victim.Process.Signal("STOP");
            TimeSpan heartbeatTimeout = observer.Network.Options.HeartbeatTimeout;
            await Eventually.WaitAsync(() => observer.Network.Peers.Count == 3 && nodes.Where(n => n != victim).All(n => n.Peers == 3),
                heartbeatTimeout + TimeSpan.FromSeconds(3), "every other node dropped the frozen one");
            TimeSpan noticed = frozenAt.Elapsed;
            Assert.True(noticed < heartbeatTimeout + (2 * observer.Network.Options.HeartbeatInterval) + TimeSpan.FromSeconds(1),
                $"noticed after {noticed.TotalSeconds:F2} s with a {heartbeatTimeout.TotalSeconds:F1} s heartbeat timeout");
            Assert.Contains(observer.Log.Lines, l => l.Contains("heartbeat timeout", StringComparison.Ordinal));

            // No longer sent to: a request to it fails at once instead of waiting.
            IOException e = await Assert.ThrowsAsync<IOException>(() => observer.Network.RequestAsync(NodeId.Parse(victim.Id), 100, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));
            Assert.Contains("not connected", e.Message, StringComparison.Ordinal);

            // Killed for good, then restarted on its data dir with only its bootstrap address: it rejoins by itself.
            victim.Process.Kill();
            await victim.RestartAsync(nodes[1].Address);
            await Eventually.WaitAsync(() => nodes.All(n => n.Peers == 4) && observer.Network.Peers.Count == 4, TimeSpan.FromSeconds(10),
                "the restarted node rejoined the whole mesh");
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
        }
    }
}
