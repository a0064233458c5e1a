using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using NexNet.Node.State;
using NexNet.P2P;
using NexNet.P2P.Wire;

namespace NexNet.IntegrationTests.P2P;

/// <summary>Discovery, refusal, duplicate dials and remembered peers, with real nodes in one process.</summary>
[Collection(MeasuredTests.Name)]
public sealed class MeshTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Five_nodes_each_bootstrapped_to_the_one_before_are_all_connected_within_5_s()
    {
        byte[] network = InProcessPeer.NewNetwork();
        var clock = Stopwatch.StartNew();
        var nodes = new List<InProcessPeer> { InProcessPeer.Start("n0", network) };
        try
        {
            for (int i = 1; i < 5; i++)
            {
                nodes.Add(InProcessPeer.Start($"n{i}", network, nodes[i - 1].Address));
            }

            await Eventually.WaitAsync(() => nodes.All(n => n.Network.Peers.Count == 4), TimeSpan.FromSeconds(5) - clock.Elapsed,
                "every node connected to the 4 others");
            foreach (InProcessPeer node in nodes)
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
        byte[] network = InProcessPeer.NewNetwork();
        await using InProcessPeer a = InProcessPeer.Start("a", network);
        await using InProcessPeer b = InProcessPeer.Start("b", network, a.Address);
        await Eventually.WaitAsync(() => a.Network.Peers.Count == 1, s_deadline, "a and b connected");

        await using InProcessPeer intruder = InProcessPeer.Start("intruder", RandomNumberGenerator.GetBytes(32), a.Address);
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
        byte[] network = InProcessPeer.NewNetwork();
        await using InProcessPeer a = InProcessPeer.Start("a", network);
        PeerOptions future = InProcessPeer.FastOptions();
        future.AdvertisedProtocolVersion = PeerOptions.ProtocolVersion + 1;
        await using InProcessPeer newer = InProcessPeer.Start("newer", network, future, a.Address);
        await Eventually.WaitAsync(() => a.Log.Contains("protocol version 2") && newer.Log.Contains("refused the connection: Version"), s_deadline,
            "both logs name the version mismatch");
        Assert.Empty(a.Network.Peers);
        Assert.Empty(newer.Network.Peers);
    }

    [Fact]
    public async Task Two_nodes_dialing_each_other_at_once_keep_exactly_one_connection()
    {
        byte[] network = InProcessPeer.NewNetwork();
        for (int round = 0; round < 5; round++)
        {
            await using InProcessPeer a = InProcessPeer.Start("a", network);
            await using InProcessPeer b = InProcessPeer.Start("b", network);
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
        byte[] network = InProcessPeer.NewNetwork();
        using var dir = new TempDirectory();
        await using InProcessPeer b = InProcessPeer.Start("b", network);
        using NodeIdentity identity = NodeIdentity.LoadOrCreate(dir.Path);
        using (NodeStore meta = NodeStore.OpenFile(dir.Combine("meta.db")))
        {
            await using var first = new PeerNetwork(identity, network, InProcessPeer.FastOptions(), new LogCapture("a1"), meta);
            first.Start(new IPEndPoint(IPAddress.Loopback, 0), [b.Address]);
            await Eventually.WaitAsync(() => first.Peers.Count == 1, s_deadline, "a connected to b");
        }

        using (NodeStore meta = NodeStore.OpenFile(dir.Combine("meta.db")))
        {
            await using var second = new PeerNetwork(identity, network, InProcessPeer.FastOptions(), new LogCapture("a2"), meta);
            second.Start(new IPEndPoint(IPAddress.Loopback, 0), bootstrap: []);
            await Eventually.WaitAsync(() => second.Find(b.Network.Id) is not null, s_deadline, "a found b again with no bootstrap address");
        }
    }

    [Fact]
    public async Task Redials_back_off_with_jitter_and_a_gossiped_address_that_keeps_failing_is_forgotten()
    {
        CancellationToken cancel = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        // Two listeners that accept and close at once: every dial fails its handshake, and each says when it came.
        using var bootstrap = new DialRecorder(clock);
        using var gossiped = new DialRecorder(clock);
        byte[] network = InProcessPeer.NewNetwork();
        await using InProcessPeer victim = InProcessPeer.Start("victim", network, bootstrap.Address);
        await using var gossiper = new HostilePeer(network);
        PeerConnection toVictim = await gossiper.ConnectAsync(victim.Address);
        var list = new PeerList();
        list.Peers.Add(new PeerAddress { NodeId = Google.Protobuf.ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Address = gossiped.Address });
        await toVictim.SendAsync(MessageType.Peers, list, cancel);

        // The gossiped address is dialed until it has failed 8 times, then dropped; the bootstrap address never is.
        await Eventually.WaitAsync(() => !gossiped.Attempts.IsEmpty, s_deadline, "the gossiped address is dialed");
        await Eventually.WaitAsync(() => !victim.Network.DialingAddresses.Contains(gossiped.Address), TimeSpan.FromSeconds(30),
            "the gossiped address is forgotten", () => $"{gossiped.Attempts.Count} dials");
        Assert.Equal(8, gossiped.Attempts.Count);
        await Eventually.WaitAsync(() => bootstrap.Attempts.Count >= 13, TimeSpan.FromSeconds(30), "the bootstrap address is still dialed after 12 failures");
        Assert.Contains(bootstrap.Address, victim.Network.DialingAddresses);

        // Each wait is the delay (50 ms doubling to 1 s in tests) times a jitter of 0.5 to 1.5.
        PeerOptions options = InProcessPeer.FastOptions();
        long[] at = [.. bootstrap.Attempts];
        var ratios = new List<double>();
        TimeSpan delay = options.ReconnectMinDelay;
        for (int i = 1; i < at.Length; i++)
        {
            double ratio = (at[i] - at[i - 1]) / delay.TotalMilliseconds;
            Assert.InRange(ratio, 0.45, 1.5 + (100 / delay.TotalMilliseconds)); // plus up to 100 ms for the failed handshake itself
            if (delay >= TimeSpan.FromMilliseconds(400))
            {
                ratios.Add(ratio); // long enough that the handshake's few milliseconds do not blur the jitter
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.ReconnectMaxDelay.Ticks));
        }

        // Without jitter every ratio would be 1.00-1.05; with it, each falls outside 0.9-1.2 seven times in ten.
        Assert.True(ratios.Count >= 8 && ratios.Any(r => r is < 0.9 or > 1.2),
            $"the waits follow the doubling too exactly for jitter: {string.Join(", ", ratios.Select(r => r.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    /// <summary>A loopback listener that records when each connection came and closes it at once.</summary>
    private sealed class DialRecorder : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public DialRecorder(Stopwatch clock)
        {
            _listener.Start();
            Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
                        Attempts.Enqueue(clock.ElapsedMilliseconds);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    // Disposed: the test is over.
                }
            });
        }

        public string Address { get; }

        public System.Collections.Concurrent.ConcurrentQueue<long> Attempts { get; } = new();

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
