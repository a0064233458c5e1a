using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>
/// An authenticated connection to one peer. Exactly one reader loop parses frames and one writer loop
/// owns the socket's write side, merging queued frames into large writes. Requests carry ids, so one
/// connection carries many requests and streams at once; every request has a timeout and honours
/// cancellation. Silence longer than the heartbeat timeout closes the connection.
/// </summary>
public sealed partial class PeerConnection : IAsyncDisposable
{
    private const int WriteBatchBytes = 256 * 1024;

    /// <summary>The largest TLS record's plaintext (RFC 8446): SslStream cuts writes at this size.</summary>
    private const int TlsRecordSize = 16 * 1024;

    /// <summary>Whoever holds it writes to the transport: the writer loop, or a stream writing its data directly.</summary>
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>Frames merged before a write; used only under <see cref="_writeGate"/>. Room for a batch plus one largest frame.</summary>
    private readonly byte[] _batch = new byte[WriteBatchBytes + FrameCodec.HeaderSize + FrameCodec.MaxPayload + TlsRecordSize];

    private readonly Stream _transport;
    private readonly FrameReader _reader;
    private readonly PeerOptions _options;
    private readonly ILogger _logger;
    private readonly IPeerConnectionOwner _owner;
    private readonly Channel<OutgoingFrame> _outgoing = Channel.CreateBounded<OutgoingFrame>(
        new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<Envelope>> _pending = new();
    private readonly ConcurrentDictionary<uint, PeerStream> _streams = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _served = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRequestId;
    private long _nextStreamId;
    private long _lastReceivedTicks = Environment.TickCount64;

    /// <summary>When the write under way began (0: none), so a peer that stops reading is noticed.</summary>
    private long _writingSinceTicks;
    private long _unknownFrames;
    private long _unknownMessages;
    private int _closeStarted;

    /// <summary>Requests from the peer whose handlers still run or wait for a slot; disposal waits for them, so none touches the node's stores after it.</summary>
    private int _serving;

    /// <summary>Requests of the peer that may wait for a slot beyond the ones running.</summary>
    private const int MaxWaitingRequests = 256;

    /// <summary>Bytes of request bodies that may wait for a slot.</summary>
    private const int MaxWaitingBytes = 8 * 1024 * 1024;

    /// <summary>Longest error text a reply carries (a handler's message may quote what it was given).</summary>
    private const int MaxErrorLength = 1024;

    /// <summary>Largest reply body: what fits in one message frame beside its envelope.</summary>
    public const int MaxReplyBody = FrameCodec.MaxPayload - 1024;

    private readonly SemaphoreSlim _requestSlots;
    private long _waitingBytes;
    private long _refusedBusy;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Task _heartbeatLoop = Task.CompletedTask;

    internal PeerConnection(Stream transport, FrameReader reader, NodeId remoteId, string remoteEndPoint, bool isInitiator,
        PeerOptions options, IPeerConnectionOwner owner, ILogger logger)
    {
        _transport = transport;
        _reader = reader;
        RemoteId = remoteId;
        RemoteEndPoint = remoteEndPoint;
        IsInitiator = isInitiator;
        _options = options;
        _owner = owner;
        _logger = logger;
        _requestSlots = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
        _nextStreamId = isInitiator ? -1 : 0; // initiator opens odd stream ids, responder even
    }

    public NodeId RemoteId { get; }

    /// <summary>The socket address of the other end (for logs).</summary>
    public string RemoteEndPoint { get; }

    /// <summary>Where the peer accepts connections, from its Welcome; empty until then or if it does not listen.</summary>
    public string RemoteListenAddress { get; internal set; } = "";

    public bool IsInitiator { get; }

    /// <summary>The last measured ping round trip.</summary>
    public TimeSpan RoundTripTime { get; private set; }

    public bool IsClosed => Volatile.Read(ref _closeStarted) != 0;

    /// <summary>Why the connection closed, once it has.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Completes when the connection has closed for any reason.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Frames and messages of types this build does not know, skipped and counted.</summary>
    public long UnknownFrames => Interlocked.Read(ref _unknownFrames);

    public long UnknownMessages => Interlocked.Read(ref _unknownMessages);

    /// <summary>Requests of the peer answered "busy" because it had too many in progress here.</summary>
    public long RefusedBusy => Interlocked.Read(ref _refusedBusy);

    internal void Start()
    {
        _writeLoop = Task.Run(WriteLoopAsync);
        _readLoop = Task.Run(ReadLoopAsync);
        _heartbeatLoop = Task.Run(HeartbeatLoopAsync);
    }

    // ------------------------------------------------------------------ liveness and closing

    private async Task HeartbeatLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token))
            {
                long silentMs = Environment.TickCount64 - Volatile.Read(ref _lastReceivedTicks);
                if (silentMs > _options.HeartbeatTimeout.TotalMilliseconds)
                {
                    Abort($"no frame for {silentMs / 1000.0:F1} s (heartbeat timeout)");
                    return;
                }

                // A peer that sends but never reads would hold the writer, and every reply queued behind it, for good.
                long writingSince = Volatile.Read(ref _writingSinceTicks);
                long stuckMs = writingSince == 0 ? 0 : Environment.TickCount64 - writingSince;
                if (stuckMs > _options.RequestTimeout.TotalMilliseconds)
                {
                    Abort($"the peer has read nothing for {stuckMs / 1000.0:F1} s (write stalled)");
                    return;
                }

                byte[] ticks = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(ticks, Environment.TickCount64);
                TryEnqueue(new OutgoingFrame(FrameType.Message, 0, new Envelope { Type = MessageType.Ping, Body = ByteString.CopyFrom(ticks) }.ToByteArray()));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnPong(ByteString body)
    {
        if (body.Length == 8)
        {
            long sent = BinaryPrimitives.ReadInt64BigEndian(body.Span);
            RoundTripTime = TimeSpan.FromMilliseconds(Math.Max(0, Environment.TickCount64 - sent));
        }
    }

    /// <summary>Says goodbye, lets queued frames go out (briefly), and closes.</summary>
    public async ValueTask CloseAsync(string reason)
    {
        if (IsClosed)
        {
            return;
        }

        try
        {
            var bye = new Envelope { Type = MessageType.Bye, Body = new Bye { Reason = reason }.ToByteString() };
            await SendEnvelopeAsync(bye, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            _outgoing.Writer.TryComplete();
            await _writeLoop.WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (Exception e) when (e is IOException or TimeoutException or OperationCanceledException)
        {
        }

        Abort(reason);
    }

    /// <summary>Closes at once: fails pending requests and streams, and tells the owner (which logs it) once.</summary>
    internal void Abort(string reason)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) != 0)
        {
            return;
        }

        CloseReason = reason;
        _closing.Cancel();
        _outgoing.Writer.TryComplete();
        var closed = new IOException($"connection to {RemoteId.Abbreviated} closed: {reason}");
        foreach (TaskCompletionSource<Envelope> pending in _pending.Values)
        {
            pending.TrySetException(closed);
        }

        foreach (PeerStream stream in _streams.Values)
        {
            stream.Fail(closed);
        }

        _streams.Clear();
        try
        {
            _transport.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }

        _owner.OnClosed(this, reason);
        _closed.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync("closed locally");
        Task served = Volatile.Read(ref _serving) == 0 ? Task.CompletedTask : _served.Task;
        await Task.WhenAll(_readLoop, _writeLoop, _heartbeatLoop, served).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _closing.Dispose();
    }
}

/// <summary>What a connection needs from the network that owns it.</summary>
internal interface IPeerConnectionOwner
{
    PeerRequestHandler? FindHandler(uint type);

    /// <summary>A one-way message the connection does not handle itself; false if unknown.</summary>
    bool OnMessage(PeerConnection connection, Envelope envelope);

    void OnClosed(PeerConnection connection, string reason);
}
