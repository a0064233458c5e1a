using System.Threading.Channels;
using Google.Protobuf;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>Sending: one-way messages, requests and streams, batched into TLS records by one write loop.</summary>
public sealed partial class PeerConnection
{
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
}
