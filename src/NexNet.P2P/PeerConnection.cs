using System.Buffers;
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
public sealed class PeerConnection : IAsyncDisposable
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

    // ------------------------------------------------------------------ sending

    /// <summary>Sends a one-way message.</summary>
    public ValueTask SendAsync(uint type, IMessage message, CancellationToken cancellationToken = default) =>
        SendEnvelopeAsync(new Envelope { Type = type, Body = message.ToByteString() }, cancellationToken);

    public ValueTask SendAsync(uint type, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendEnvelopeAsync(new Envelope { Type = type, Body = ByteString.CopyFrom(body.Span) }, cancellationToken);

    /// <summary>
    /// Sends a request and waits for its response, up to the request timeout. With
    /// <paramref name="writeBody"/> the request body is streamed: it runs alongside and its stream is
    /// ended when it returns.
    /// </summary>
    public async Task<PeerResponse> RequestAsync(uint type, ReadOnlyMemory<byte> body, Func<Stream, CancellationToken, Task>? writeBody = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        ulong id = (ulong)Interlocked.Increment(ref _nextRequestId);
        var answer = new TaskCompletionSource<Envelope>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        PeerStream? upload = writeBody is null ? null : OpenStream();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        deadline.CancelAfter(timeout ?? _options.RequestTimeout);
        Task uploading = Task.CompletedTask;
        try
        {
            await SendEnvelopeAsync(new Envelope { RequestId = id, Type = type, Body = ByteString.CopyFrom(body.Span), StreamId = upload?.Id ?? 0 }, deadline.Token);
            if (upload is not null)
            {
                uploading = UploadAsync(upload, writeBody!, deadline.Token);
            }

            Envelope response = await answer.Task.WaitAsync(deadline.Token);
            await uploading;
            if (response.Error.Length > 0)
            {
                throw new PeerRequestException($"{RemoteId.Abbreviated} answered request type {type} with an error: {response.Error}");
            }

            return new PeerResponse(response.Body.Memory, response.StreamId == 0 ? null : _streams.GetValueOrDefault(response.StreamId));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            upload?.Reset("request abandoned");
            throw IsClosed
                ? new IOException($"connection to {RemoteId.Abbreviated} closed during request type {type}: {CloseReason}")
                : new TimeoutException($"{RemoteId.Abbreviated} did not answer request type {type} within {(timeout ?? _options.RequestTimeout).TotalSeconds:F0} s");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private static async Task UploadAsync(PeerStream stream, Func<Stream, CancellationToken, Task> writeBody, CancellationToken cancellationToken)
    {
        await using (stream)
        {
            await writeBody(stream, cancellationToken);
            await stream.CompleteWritesAsync(cancellationToken);
        }
    }

    /// <summary>Opens a new stream from this side (its id is announced by the envelope that uses it).</summary>
    internal PeerStream OpenStream()
    {
        uint id = (uint)Interlocked.Add(ref _nextStreamId, 2);
        var stream = new PeerStream(this, id, _options.StreamWindow);
        _streams[id] = stream;
        return stream;
    }

    internal void ForgetStream(uint id) => _streams.TryRemove(id, out _);

    internal ValueTask SendEnvelopeAsync(Envelope envelope, CancellationToken cancellationToken) =>
        EnqueueAsync(new OutgoingFrame(FrameType.Message, 0, envelope.ToByteArray()), cancellationToken);

    internal async ValueTask EnqueueAsync(OutgoingFrame frame, CancellationToken cancellationToken)
    {
        if (frame.Payload.Length > FrameCodec.MaxPayload)
        {
            throw new ArgumentException($"a message is at most {FrameCodec.MaxPayload} bytes; stream larger bodies");
        }

        try
        {
            await _outgoing.Writer.WriteAsync(frame, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new IOException($"connection to {RemoteId.Abbreviated} is closed: {CloseReason}");
        }
    }

    internal void TryEnqueue(OutgoingFrame frame)
    {
        if (!_outgoing.Writer.TryWrite(frame) && !IsClosed)
        {
            // Queue full: hand it to the writer without blocking the caller (rare; control frames only).
            EnqueueAsync(frame, _closing.Token).Forget();
        }
    }

    /// <summary>
    /// Writes one stream data frame from the caller's own thread and memory, the way a plain TLS writer
    /// would: no hand-off to the writer loop and back, no copy. Takes the write gate, first writes out any
    /// queued frames (so nothing queued earlier, such as the envelope that opened this stream, is overtaken),
    /// then the frame. Returns when the bytes have been handed to TLS.
    /// </summary>
    internal async ValueTask WriteDataAsync(uint channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        await _writeGate.WaitAsync(either.Token);
        Volatile.Write(ref _writingSinceTicks, Environment.TickCount64);
        try
        {
            int used = await DrainQueuedAsync(either.Token);
            FrameCodec.WriteHeader(_batch.AsSpan(used), FrameType.Data, channel, payload.Length);
            used += FrameCodec.HeaderSize;

            // The header goes out with the payload's first bytes as one full TLS record, not as a tiny
            // record of its own that the peer would have to decrypt and wake up for separately.
            int head = Math.Min(payload.Length, TlsRecordSize - (used % TlsRecordSize));
            payload.Span[..head].CopyTo(_batch.AsSpan(used));
            used += head;
            await _transport.WriteAsync(_batch.AsMemory(0, used), either.Token);
            if (head < payload.Length)
            {
                await _transport.WriteAsync(payload[head..], either.Token);
            }

            await _transport.FlushAsync(either.Token);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Abort($"write failed: {e.Message}");
            throw new IOException($"connection to {RemoteId.Abbreviated} closed: {CloseReason}", e);
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"connection to {RemoteId.Abbreviated} closed: {CloseReason}");
        }
        finally
        {
            Volatile.Write(ref _writingSinceTicks, 0);
            _writeGate.Release();
        }
    }

    /// <summary>The writer loop: merges whatever is queued into large writes, under the write gate.</summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(_closing.Token))
            {
                await _writeGate.WaitAsync(_closing.Token);
                Volatile.Write(ref _writingSinceTicks, Environment.TickCount64);
                try
                {
                    int used = await DrainQueuedAsync(_closing.Token);
                    if (used > 0)
                    {
                        await _transport.WriteAsync(_batch.AsMemory(0, used), _closing.Token);
                        await _transport.FlushAsync(_closing.Token);
                    }
                }
                finally
                {
                    Volatile.Write(ref _writingSinceTicks, 0);
                    _writeGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Abort($"write failed: {e.Message}");
        }
    }

    /// <summary>Copies queued frames into the batch (writing it out whenever it fills); returns how much is left in it. Call under the gate.</summary>
    private async ValueTask<int> DrainQueuedAsync(CancellationToken cancellationToken)
    {
        int used = 0;
        while (_outgoing.Reader.TryRead(out OutgoingFrame frame))
        {
            if (used + FrameCodec.HeaderSize + frame.Payload.Length > WriteBatchBytes && used > 0)
            {
                await _transport.WriteAsync(_batch.AsMemory(0, used), cancellationToken);
                Volatile.Write(ref _writingSinceTicks, Environment.TickCount64); // progress: the stall clock counts from here
                used = 0;
            }

            FrameCodec.WriteHeader(_batch.AsSpan(used), frame.Type, frame.Channel, frame.Payload.Length);
            frame.Payload.Span.CopyTo(_batch.AsSpan(used + FrameCodec.HeaderSize));
            used += FrameCodec.HeaderSize + frame.Payload.Length;
        }

        return used;
    }

    // ------------------------------------------------------------------ receiving

    private async Task ReadLoopAsync()
    {
        string? reason = null;
        try
        {
            while (true)
            {
                if (await _reader.ReadHeaderAsync(FrameCodec.MaxPayload, _closing.Token) is not { } header)
                {
                    reason = "closed by peer";
                    break;
                }

                Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
                if (header.Unknown)
                {
                    Interlocked.Increment(ref _unknownFrames);
                    await _reader.SkipAsync(header.PayloadLength, _closing.Token);
                }
                else if (header.Type == FrameType.Data)
                {
                    if (_streams.TryGetValue(header.Channel, out PeerStream? stream))
                    {
                        await stream.ReceiveAsync(_reader, header.PayloadLength, _closing.Token);
                    }
                    else
                    {
                        await _reader.SkipAsync(header.PayloadLength, _closing.Token); // a stream already closed here
                    }
                }
                else
                {
                    byte[] payload = ArrayPool<byte>.Shared.Rent(Math.Max(1, header.PayloadLength));
                    try
                    {
                        await _reader.ReadExactlyAsync(payload.AsMemory(0, header.PayloadLength), _closing.Token);
                        OnControlFrame(header, payload.AsSpan(0, header.PayloadLength));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(payload);
                    }
                }

                Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            return;
        }
        catch (PeerProtocolException e)
        {
            reason = $"protocol error: {e.Message}";
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            reason = $"read failed: {e.Message}";
        }

        Abort(reason ?? "closed");
    }

    private void OnControlFrame(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Type)
        {
            case FrameType.Message:
                OnEnvelope(ParseEnvelope(payload));
                break;
            case FrameType.End:
                if (_streams.TryGetValue(header.Channel, out PeerStream? stream))
                {
                    stream.OnEnd();
                }

                break;
            case FrameType.Reset:
                if (_streams.TryRemove(header.Channel, out stream))
                {
                    stream.OnReset(System.Text.Encoding.UTF8.GetString(payload));
                }

                break;
            case FrameType.Credit:
                if (_streams.TryGetValue(header.Channel, out stream))
                {
                    stream.OnCredit(BinaryPrimitives.ReadUInt32BigEndian(payload));
                }

                break;
        }
    }

    internal static Envelope ParseEnvelope(ReadOnlySpan<byte> payload)
    {
        try
        {
            return Envelope.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new PeerProtocolException($"undecodable message: {e.Message}", e);
        }
    }

    internal static Envelope ParseEnvelope(ReadOnlySequence<byte> payload) =>
        ParseEnvelope(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());

    private void OnEnvelope(Envelope envelope)
    {
        PeerStream? stream = null;
        if (envelope.StreamId != 0)
        {
            // The peer opens streams of the other parity; register before the stream's data frames arrive.
            bool theirs = (envelope.StreamId % 2 == 1) != IsInitiator;
            if (!theirs || _streams.ContainsKey(envelope.StreamId))
            {
                throw new PeerProtocolException($"message names stream {envelope.StreamId}, which the peer may not open");
            }

            if (_streams.Count >= _options.MaxStreamsPerConnection)
            {
                throw new PeerProtocolException($"peer opened more than {_options.MaxStreamsPerConnection} streams at once");
            }

            stream = new PeerStream(this, envelope.StreamId, _options.StreamWindow);
            _streams[envelope.StreamId] = stream;
        }

        if (envelope.IsResponse)
        {
            if (_pending.TryGetValue(envelope.RequestId, out TaskCompletionSource<Envelope>? answer))
            {
                answer.TrySetResult(envelope);
            }
            else
            {
                stream?.Reset("no such request"); // answer to a request that timed out here
            }

            return;
        }

        switch (envelope.Type)
        {
            case MessageType.Ping:
                TryEnqueue(new OutgoingFrame(FrameType.Message, 0, new Envelope { Type = MessageType.Pong, Body = envelope.Body }.ToByteArray()));
                return;
            case MessageType.Pong:
                OnPong(envelope.Body);
                return;
            case MessageType.Bye:
                Abort($"peer said goodbye: {ParseOrDefault(Bye.Parser, envelope.Body)?.Reason}");
                return;
            case MessageType.Hello or MessageType.Proof or MessageType.Refuse:
                throw new PeerProtocolException("handshake message after the handshake");
        }

        if (envelope.RequestId != 0)
        {
            PeerRequestHandler? handler = _owner.FindHandler(envelope.Type);
            if (handler is null)
            {
                Interlocked.Increment(ref _unknownMessages);
                stream?.Reset("unknown request type");
                RefuseRequest(envelope, $"unknown request type {envelope.Type}");
                return;
            }

            // Bounded per connection: so many run at once, and so many more (and so many bytes of their
            // bodies) wait for a slot; past that the peer hears "busy" at once instead of this node
            // holding whatever it sends.
            int bodyBytes = envelope.Body.Length;
            long waitingBytes = Interlocked.Add(ref _waitingBytes, bodyBytes);
            int serving = Volatile.Read(ref _serving);
            if (serving >= _options.MaxConcurrentRequests + MaxWaitingRequests
                || (serving >= _options.MaxConcurrentRequests && waitingBytes > MaxWaitingBytes))
            {
                Interlocked.Add(ref _waitingBytes, -bodyBytes);
                Interlocked.Increment(ref _refusedBusy);
                stream?.Reset("busy");
                RefuseRequest(envelope, $"busy: {_options.MaxConcurrentRequests} requests of this peer in progress here");
                return;
            }

            Interlocked.Increment(ref _serving);
            _ = Task.Run(async () =>
            {
                bool slot = false;
                try
                {
                    await _requestSlots.WaitAsync(_closing.Token);
                    slot = true;
                    Interlocked.Add(ref _waitingBytes, -bodyBytes);
                    bodyBytes = 0;
                    await ServeAsync(handler, envelope, stream);
                }
                catch (OperationCanceledException) when (_closing.IsCancellationRequested)
                {
                    if (stream is not null)
                    {
                        await stream.DisposeAsync();
                    }
                }
                finally
                {
                    Interlocked.Add(ref _waitingBytes, -bodyBytes);
                    if (slot)
                    {
                        _requestSlots.Release();
                    }

                    if (Interlocked.Decrement(ref _serving) == 0 && IsClosed)
                    {
                        _served.TrySetResult();
                    }
                }
            });
            return;
        }

        if (!_owner.OnMessage(this, envelope))
        {
            Interlocked.Increment(ref _unknownMessages);
        }
    }

    private async Task ServeAsync(PeerRequestHandler handler, Envelope request, PeerStream? requestStream)
    {
        var response = new Envelope { RequestId = request.RequestId, IsResponse = true, Type = request.Type };
        PeerReply? reply = null;
        try
        {
            reply = await handler(new PeerRequest(this, request.Type, request.Body.Memory, requestStream), _closing.Token);
            if (reply.Body.Length > MaxReplyBody)
            {
                throw new InvalidOperationException($"the reply ({reply.Body.Length} bytes) is larger than a message may be ({MaxReplyBody} bytes)");
            }

            response.Body = ByteString.CopyFrom(reply.Body.Span);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_closing.IsCancellationRequested)
        {
            Log.RequestFailed(_logger, request.Type, RemoteId.Abbreviated, e.Message);
            response.Error = e.Message.Length > MaxErrorLength ? e.Message[..MaxErrorLength] : e.Message;
            reply = null;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        finally
        {
            if (requestStream is not null)
            {
                await requestStream.DisposeAsync();
            }
        }

        bool answered = false;
        try
        {
            PeerStream? download = reply?.WriteBody is null ? null : OpenStream();
            response.StreamId = download?.Id ?? 0;
            await SendEnvelopeAsync(response, _closing.Token);
            answered = true;
            if (download is not null)
            {
                await using (download)
                {
                    try
                    {
                        await reply!.WriteBody!(download, _closing.Token);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        download.Reset($"sender failed: {e.Message}");
                        throw;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection closed under the reply; its close is logged once, elsewhere.
        }
        catch (Exception e)
        {
            // Whatever went wrong, the peer hears of it (an error reply, or the reset of the reply's
            // stream) rather than waiting out its timeout, and this node says so once.
            Log.RequestFailed(_logger, request.Type, RemoteId.Abbreviated, $"{e.GetType().Name}: {e.Message}");
            if (!answered)
            {
                RefuseRequest(request, $"the reply failed: {e.Message}");
            }
        }
    }

    /// <summary>Answers a request with an error at once (without running a handler).</summary>
    private void RefuseRequest(Envelope request, string error) =>
        TryEnqueue(new OutgoingFrame(FrameType.Message, 0, new Envelope
        {
            RequestId = request.RequestId,
            IsResponse = true,
            Type = request.Type,
            Error = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error,
        }.ToByteArray()));

    private static T? ParseOrDefault<T>(MessageParser<T> parser, ByteString body) where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
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
