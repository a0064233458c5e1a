using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>Receiving: the read loop, control frames, and requests served under their limits.</summary>
public sealed partial class PeerConnection
{
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
}
