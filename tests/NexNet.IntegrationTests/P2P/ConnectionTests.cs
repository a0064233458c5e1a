using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.P2P;
using NexNet.P2P.Wire;

namespace NexNet.IntegrationTests.P2P;

/// <summary>Two real nodes on loopback: requests, streamed bodies both ways, flow control, timeouts.</summary>
public sealed class ConnectionTests : IAsyncLifetime
{
    private const uint Echo = 100;
    private const uint Upload = 101;
    private const uint Download = 102;
    private const uint Silent = 103;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);
    private InProcessPeer _a = null!;
    private InProcessPeer _b = null!;

    public async ValueTask InitializeAsync()
    {
        byte[] network = InProcessPeer.NewNetwork();
        _a = InProcessPeer.Start("a", network);
        _b = InProcessPeer.Start("b", network, _a.Address);
        await Eventually.WaitAsync(() => _a.Network.Find(_b.Network.Id) is not null && _b.Network.Find(_a.Network.Id) is not null, s_deadline, "a and b connected");
    }

    [Fact]
    public async Task Requests_are_answered()
    {
        _a.Network.Handle(Echo, (request, _) => Task.FromResult(new PeerReply(request.Body.ToArray().Reverse().ToArray())));
        await using PeerResponse response = await _b.Network.RequestAsync(_a.Network.Id, Echo, new byte[] { 1, 2, 3 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 3, 2, 1 }, response.Body.ToArray());
    }

    [Fact]
    public async Task A_hello_naming_another_node_than_the_certificate_is_refused_both_ways()
    {
        CancellationToken cancel = TestContext.Current.CancellationToken;
        using NodeIdentity impostor = NodeIdentity.CreateEphemeral();
        PeerConnection real = _a.Network.Find(_b.Network.Id)!;

        // Dialing a: its own certificate, a Hello claiming b's id (to take b's place in a's table).
        using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPEndPoint.Parse(_a.Address), cancel);
            await using var tls = new SslStream(new NetworkStream(socket), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(Handshake.ClientOptions(impostor), cancel);
            await tls.WriteAsync(HelloFrame(claiming: _b.Network.Id), cancel);
            await tls.FlushAsync(cancel);
            Assert.Null(await ReadHeaderOrCloseAsync(tls)); // closed without a Hello of a's own
        }

        await Eventually.WaitAsync(() => _a.Log.Contains("does not match its TLS certificate"), s_deadline, "a's log says why it refused");
        Assert.Same(real, _a.Network.Find(_b.Network.Id));
        Assert.Single(_a.Network.Peers);

        // Answering b's dial: its own certificate, a Hello claiming a's id.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<HandshakeException> dial = Assert.ThrowsAsync<HandshakeException>(() => _b.Network.ConnectAsync($"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", cancel));
        using (Socket accepted = await listener.AcceptSocketAsync(cancel))
        {
            await using var tls = new SslStream(new NetworkStream(accepted), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsServerAsync(Handshake.ServerOptions(impostor), cancel);
            var reader = new FrameReader(tls);
            FrameHeader hello = (await reader.ReadHeaderAsync(FrameCodec.MaxHandshakePayload, cancel))!.Value;
            await reader.ReadExactlyAsync(new byte[hello.PayloadLength], cancel);
            await tls.WriteAsync(HelloFrame(claiming: _a.Network.Id), cancel);
            await tls.FlushAsync(cancel);
            HandshakeException refused = await dial;
            Assert.Equal(HandshakeFailure.Protocol, refused.Failure);
            Assert.Contains("does not match its TLS certificate", refused.Message, StringComparison.Ordinal);
        }

        Assert.Same(_a.Network.Find(_b.Network.Id), real);
        Assert.Same(_b.Network.Find(_a.Network.Id), _b.Network.Peers.Single());
    }

    private static byte[] HelloFrame(NodeId claiming) => HostilePeer.Frame(new Envelope
    {
        Type = MessageType.Hello,
        Body = new Hello { ProtocolVersion = PeerOptions.ProtocolVersion, NodeId = ByteString.CopyFrom(claiming.ToBytes()), Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)) }.ToByteString(),
    });

    /// <summary>The next frame header, or null once the other side has closed (a reset counts as closed).</summary>
    private static async Task<FrameHeader?> ReadHeaderOrCloseAsync(Stream stream)
    {
        try
        {
            return await new FrameReader(stream).ReadHeaderAsync(FrameCodec.MaxHandshakePayload, TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Many_requests_share_one_connection_at_once()
    {
        _a.Network.Handle(Echo, async (request, ct) =>
        {
            await Task.Yield();
            return new PeerReply(request.Body);
        });
        Task<PeerResponse>[] requests = [.. Enumerable.Range(0, 200).Select(i =>
            _b.Network.RequestAsync(_a.Network.Id, Echo, BitConverter.GetBytes(i), cancellationToken: TestContext.Current.CancellationToken))];
        PeerResponse[] responses = await Task.WhenAll(requests);
        Assert.Equal(Enumerable.Range(0, 200), responses.Select(r => BitConverter.ToInt32(r.Body.Span)));
        Assert.Single(_b.Network.Peers);
    }

    [Fact]
    public async Task Bodies_stream_both_ways_byte_for_byte()
    {
        byte[] up = RandomNumberGenerator.GetBytes((5 * 1024 * 1024) + 17);
        byte[] down = RandomNumberGenerator.GetBytes((7 * 1024 * 1024) + 3);
        _a.Network.Handle(Upload, async (request, ct) =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[100_000];
            int n;
            while ((n = await request.BodyStream!.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }

            return new PeerReply(hash.GetHashAndReset(), async (stream, token) => await stream.WriteAsync(down, token));
        });

        await using PeerResponse response = await _b.Network.RequestAsync(_a.Network.Id, Upload, ReadOnlyMemory<byte>.Empty,
            async (stream, ct) => await stream.WriteAsync(up, ct), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(SHA256.HashData(up), response.Body.ToArray());
        using var received = new MemoryStream();
        await response.BodyStream!.CopyToAsync(received, TestContext.Current.CancellationToken);
        Assert.Equal(down, received.ToArray());
    }

    [Fact]
    public async Task A_slow_reader_holds_its_writer_to_one_window()
    {
        var reading = new TaskCompletionSource();
        PeerStream? serverSide = null;
        long written = 0;
        _a.Network.Handle(Upload, async (request, ct) =>
        {
            serverSide = request.BodyStream;
            await reading.Task.WaitAsync(ct);
            await request.BodyStream!.CopyToAsync(Stream.Null, ct);
            return PeerReply.Empty;
        });

        int window = _b.Network.Options.StreamWindow;
        Task<PeerResponse> upload = _b.Network.RequestAsync(_a.Network.Id, Upload, ReadOnlyMemory<byte>.Empty, async (stream, ct) =>
        {
            byte[] chunk = new byte[16 * 1024];
            for (int i = 0; i < 4 * window / chunk.Length; i++)
            {
                await stream.WriteAsync(chunk, ct);
                Interlocked.Add(ref written, chunk.Length);
            }
        }, cancellationToken: TestContext.Current.CancellationToken);

        // The receiver holds exactly one window and the writer cannot get further until it reads.
        await Eventually.WaitAsync(() => serverSide is not null && serverSide.BufferedBytes == window, s_deadline, "the receiver holds one full window");
        Assert.True(Interlocked.Read(ref written) <= window, $"writer got {written} bytes out with a {window}-byte window and no reader");
        Assert.False(upload.IsCompleted);

        reading.SetResult();
        await using PeerResponse done = await upload;
        Assert.Equal(4 * window, Interlocked.Read(ref written));
    }

    [Fact]
    public async Task A_request_nobody_answers_times_out_and_the_connection_lives_on()
    {
        _a.Network.Handle(Silent, async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return PeerReply.Empty;
        });
        _a.Network.Handle(Echo, (request, _) => Task.FromResult(new PeerReply(request.Body)));
        await Assert.ThrowsAsync<TimeoutException>(() => _b.Network.RequestAsync(_a.Network.Id, Silent, new byte[] { 1 }, timeout: TimeSpan.FromMilliseconds(300), cancellationToken: TestContext.Current.CancellationToken));
        await using PeerResponse echo = await _b.Network.RequestAsync(_a.Network.Id, Echo, new byte[] { 9 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 9 }, echo.Body.ToArray());
    }

    [Fact]
    public async Task Unknown_request_types_are_answered_with_an_error_and_counted()
    {
        PeerRequestException e = await Assert.ThrowsAsync<PeerRequestException>(() => _b.Network.RequestAsync(_a.Network.Id, 999, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("unknown request type 999", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, _a.Network.Find(_b.Network.Id)!.UnknownMessages);
    }

    [Fact]
    public async Task A_reply_too_large_for_a_frame_is_answered_with_an_error_at_once()
    {
        _a.Network.Handle(Echo, (_, _) => Task.FromResult(new PeerReply(new byte[PeerConnection.MaxReplyBody + 1])));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PeerRequestException e = await Assert.ThrowsAsync<PeerRequestException>(() =>
            _b.Network.RequestAsync(_a.Network.Id, Echo, new byte[] { 1 }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("larger than a message may be", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the error took {clock.Elapsed.TotalSeconds:F1} s (the request timeout is {InProcessPeer.FastOptions().RequestTimeout.TotalSeconds:F0} s)");
        Assert.Contains(_a.Log.Lines, l => l.Contains("larger than a message may be", StringComparison.Ordinal));

        _a.Network.Handle(Echo, (request, _) => Task.FromResult(new PeerReply(request.Body))); // the connection lives on
        await using PeerResponse echo = await _b.Network.RequestAsync(_a.Network.Id, Echo, new byte[] { 7 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 7 }, echo.Body.ToArray());
    }

    [Fact]
    public async Task A_peer_gets_a_bounded_number_of_requests_served_and_hears_busy_past_it()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0, most = 0;
        _a.Network.Handle(Silent, async (request, ct) =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await gate.Task.WaitAsync(ct);
            Interlocked.Decrement(ref running);
            return new PeerReply(request.Body);
        });
        var options = new PeerOptions();
        int served = options.MaxConcurrentRequests, waiting = 256, excess = 10;
        Task<PeerResponse>[] requests = [.. Enumerable.Range(0, served + waiting + excess).Select(i =>
            _b.Network.RequestAsync(_a.Network.Id, Silent, BitConverter.GetBytes(i), cancellationToken: TestContext.Current.CancellationToken))];
        await Eventually.WaitAsync(() => requests.Count(r => r.IsFaulted) == excess, s_deadline, $"{excess} requests hear 'busy'",
            () => $"{requests.Count(r => r.IsFaulted)} faulted, {Volatile.Read(ref running)} running");
        Assert.All(requests.Where(r => r.IsFaulted), r => Assert.Contains("busy", r.Exception!.InnerException!.Message, StringComparison.Ordinal));
        Assert.Equal(served, Volatile.Read(ref running));
        gate.SetResult();
        PeerResponse[] answered = await Task.WhenAll(requests.Where(r => !r.IsFaulted));
        Assert.Equal(served + waiting, answered.Length);
        Assert.Equal(served, most);
        Assert.Equal(excess, _a.Network.Find(_b.Network.Id)!.RefusedBusy);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }
}
