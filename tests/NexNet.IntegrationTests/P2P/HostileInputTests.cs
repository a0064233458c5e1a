using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using NexNet.P2P;

namespace NexNet.IntegrationTests.P2P;

/// <summary>
/// A node in its own process under attack while a legitimate peer keeps sending it requests: random
/// bytes before TLS, garbage after TLS, a 4 GiB length prefix, half frames then silence, and 1,000
/// connections opened and dropped at once. The node must stay up, keep its memory bounded, log each
/// bad connection, and keep answering the legitimate peer (whose round trips the test measures).
/// </summary>
[Collection(MeasuredTests.Name)]
public sealed class HostileInputTests
{
    private const uint Echo = 100;
    private const uint PeakRss = 101;
    /// <summary>What the attacks may add to the victim's idle RSS (measured: 7-8 MiB over 61-62 MiB idle): TLS state for its bounded handshake slots and a frame buffer each.</summary>
    private const long AttackRssKib = 48 * 1024;

    [Fact]
    public async Task The_node_survives_hostile_input_and_keeps_serving_a_legitimate_peer()
    {
        byte[] network = InProcessPeer.NewNetwork();
        using HostedNetworkNode victim = await HostedNetworkNode.StartAsync("victim", network);
        await using InProcessPeer legit = InProcessPeer.Start("legit", network, victim.Address);
        NodeId victimId = NodeId.Parse(victim.Id);
        await Eventually.WaitAsync(() => legit.Network.Find(victimId) is not null, TimeSpan.FromSeconds(10), "the legitimate peer connected");
        (IPAddress host, int port) = Split(victim.Address);

        // The limits come from this machine in this run: the same probe and the victim's memory, measured
        // for 2 s before any attack.
        (List<double> quiet, int quietFailures) = await ProbeAsync(legit, victimId, Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken));
        Assert.Equal(0, quietFailures);
        double quietP99 = Percentile(quiet, 0.99);
        long idleKib = await PeakRssKibAsync(legit, victimId);

        // The legitimate peer's probe: sequential round trips for as long as the attacks last.
        var attacksOver = new TaskCompletionSource();
        Task<(List<double> Latencies, int Failures)> probe = ProbeAsync(legit, victimId, attacksOver.Task);

        // 1. Random bytes before TLS.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => RawAsync(host, port, RandomNumberGenerator.GetBytes(4096))));
        // 2. A valid TLS handshake, then garbage instead of Hello.
        // From ten source addresses (of 127/8): more at once from one address than MaxHandshakesPerAddress are refused at accept.
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => AfterTlsAsync(host, port, RandomNumberGenerator.GetBytes(65536), source: IPAddress.Parse($"127.0.0.{20 + i}"))));
        // 3. A 4 GiB length prefix: before the handshake's Hello, and on a fully authenticated connection.
        await AfterTlsAsync(host, port, [0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0]);
        await AfterHandshakeAsync(host, port, network, [0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0], expectClose: true);
        // 4. Half a frame, then silence: during the handshake (handshake timeout) and after it (heartbeat timeout).
        await AfterTlsAsync(host, port, [0, 0, 0, 40, 1], waitForClose: true);
        await AfterHandshakeAsync(host, port, network, [0, 0, 1, 0, 1, 0], expectClose: true);
        // 5. 1,000 connections opened and dropped at once.
        await StormAsync(host, port, 1000);

        attacksOver.SetResult();
        (List<double> latencies, int probeFailures) = await probe;

        // Still up, still answering, memory bounded, every bad connection explained in its log.
        Assert.False(victim.Process.HasExited, "the node died");
        long peakKib = await PeakRssKibAsync(legit, victimId);
        double p50 = Percentile(latencies, 0.5), p99 = Percentile(latencies, 0.99);
        // The storm shares the victim's two cores with the probe, so an answer may wait behind it, but not
        // for long. Measured here: quiet p99 3.5-3.8 ms; during the attacks p99 3.5-4.6 ms, max 77-101 ms. The
        // bound, 250 ms plus twenty quiet p99s, scales with a slower machine and still catches a node that
        // lets the storm starve its peers.
        double p99Bound = 250 + (20 * quietP99);
        TestContext.Current.TestOutputHelper?.WriteLine($"legitimate round trips: quiet {quiet.Count}, p99 {quietP99:F1} ms; during the attacks {latencies.Count}, " +
            $"p50 {p50:F1} ms, p99 {p99:F1} ms (bound {p99Bound:F0}), max {latencies.Max():F1} ms; victim RSS idle {idleKib / 1024} MiB, peak {peakKib / 1024} MiB");
        Assert.True(peakKib < idleKib + AttackRssKib, $"the node's peak RSS went from {idleKib / 1024} MiB idle to {peakKib / 1024} MiB under attack");
        Assert.Equal(0, probeFailures);
        Assert.True(latencies.Count > 10, $"only {latencies.Count} probe round trips completed");
        Assert.True(p99 < p99Bound, $"p99 round trip {p99:F0} ms during the storm (quiet p99 {quietP99:F1} ms)");
        Assert.Contains("TLS handshake failed", victim.Log, StringComparison.Ordinal);
        Assert.Contains("frame length 4294967295", victim.Log, StringComparison.Ordinal);
        Assert.Contains("handshake timed out", victim.Log, StringComparison.Ordinal);
        Assert.Contains("heartbeat timeout", victim.Log, StringComparison.Ordinal);
        Assert.NotNull(legit.Network.Find(victimId));
    }

    /// <summary>Sequential round trips, one per 5 ms (it measures the node's responsiveness, it is no load of its own), until <paramref name="until"/> completes.</summary>
    private static Task<(List<double> Latencies, int Failures)> ProbeAsync(InProcessPeer legit, NodeId victimId, Task until) => Task.Run(async () =>
    {
        var latencies = new List<double>();
        int failures = 0;
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        while (!until.IsCompleted && await pace.WaitForNextTickAsync(TestContext.Current.CancellationToken))
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await using PeerResponse r = await legit.Network.RequestAsync(victimId, Echo, new byte[] { 42 }, timeout: TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
            catch (Exception e) when (e is IOException or TimeoutException)
            {
                failures++;
            }
        }

        return (latencies, failures);
    });

    private static double Percentile(List<double> values, double fraction)
    {
        double[] sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * fraction))];
    }

    private static async Task<long> PeakRssKibAsync(InProcessPeer legit, NodeId victimId)
    {
        await using PeerResponse rss = await legit.Network.RequestAsync(victimId, PeakRss, ReadOnlyMemory<byte>.Empty, cancellationToken: TestContext.Current.CancellationToken);
        return BitConverter.ToInt64(rss.Body.Span);
    }

    private static (IPAddress, int) Split(string address)
    {
        var ep = IPEndPoint.Parse(address);
        return (ep.Address, ep.Port);
    }

    private static async Task RawAsync(IPAddress host, int port, byte[] bytes)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host, port);
        try
        {
            await socket.SendAsync(bytes);
            byte[] sink = new byte[1024];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (await socket.ReceiveAsync(sink, cts.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset by the node: the expected end.
        }
    }

    private static async Task<SslStream> TlsAsync(IPAddress host, int port, IPAddress? source = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        if (source is not null)
        {
            socket.Bind(new IPEndPoint(source, 0));
        }

        await socket.ConnectAsync(host, port);
        using NodeIdentity stranger = NodeIdentity.CreateEphemeral();
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await tls.AuthenticateAsClientAsync(Handshake.ClientOptions(stranger));
        return tls;
    }

    private static async Task AfterTlsAsync(IPAddress host, int port, byte[] bytes, bool waitForClose = true, IPAddress? source = null)
    {
        await using SslStream tls = await TlsAsync(host, port, source);
        if (await TryWriteAsync(tls, bytes) && waitForClose)
        {
            await ExpectCloseAsync(tls, TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Writes; false if the node already closed the connection under the write (which is what it should do to garbage).</summary>
    private static async Task<bool> TryWriteAsync(Stream stream, byte[] bytes)
    {
        try
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task AfterHandshakeAsync(IPAddress host, int port, byte[] network, byte[] bytes, bool expectClose)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host, port);
        using NodeIdentity attacker = NodeIdentity.CreateEphemeral();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Handshake.Result session = await Handshake.InitiateAsync(new NetworkStream(socket, ownsSocket: true), attacker, Handshake.ProofKey(network), deadline.Token);
        await using SslStream tls = session.Tls;
        if (await TryWriteAsync(tls, bytes) && expectClose)
        {
            await ExpectCloseAsync(tls, TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Reads (and discards the node's own frames) until the node closes the connection.</summary>
    private static async Task ExpectCloseAsync(Stream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        byte[] sink = new byte[65536];
        try
        {
            while (await stream.ReadAsync(sink, cts.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Reset: closed all the same.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the node kept a hostile connection open for more than {timeout.TotalSeconds:F0} s");
        }
    }

    private static async Task StormAsync(IPAddress host, int port, int count)
    {
        var sockets = new Socket[count];
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            sockets[i] = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await sockets[i].ConnectAsync(host, port);
            }
            catch (SocketException)
            {
                // A full backlog may refuse some: that is the node protecting itself.
            }
        }));
        foreach (Socket socket in sockets)
        {
            socket.Dispose();
        }
    }
}
