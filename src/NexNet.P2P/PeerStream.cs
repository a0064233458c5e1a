using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>
/// One multiplexed byte stream of a connection, readable and writable like a socket. Flow control is by
/// credit: a writer may have at most the stream window unacknowledged; the reader grants more as the
/// application consumes. So a slow reader slows its writer and never the connection, and no stream can
/// make the receiver buffer more than one window.
/// </summary>
public sealed class PeerStream : Stream
{
    /// <summary>Bytes per data frame: small enough to interleave streams, large enough to amortise framing.</summary>
    internal const int MaxDataFrame = FrameCodec.MaxPayload;

    private readonly PeerConnection _connection;
    private readonly int _window;
    private readonly Pipe _incoming = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Lock _creditLock = new();
    private readonly Lock _readLock = new();
    private Memory<byte> _waitingBuffer;
    private TaskCompletionSource<int>? _waitingReader;
    private long _sendCredit;
    private TaskCompletionSource? _creditWaiter;
    private long _buffered;
    private long _consumedSinceCredit;
    private bool _writeEnded;
    private bool _reset;
    private int _disposed;

    internal PeerStream(PeerConnection connection, uint id, int window)
    {
        _connection = connection;
        Id = id;
        _window = window;
        _sendCredit = window;
    }

    public uint Id { get; }

    /// <summary>Bytes received and not yet read by the application (never more than the window).</summary>
    public long BufferedBytes => Interlocked.Read(ref _buffered);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    // ---- receiving (called by the connection's reader loop) ----

    internal void OnData(ReadOnlySequence<byte> payload)
    {
        TaskCompletionSource<int>? reader = null;
        int direct = 0;
        lock (_readLock)
        {
            // A reader already waiting with an empty pipe gets the bytes straight into its buffer: one
            // copy instead of two. Whatever does not fit, or arrives while nobody waits, goes to the pipe.
            if (_waitingReader is not null && Interlocked.Read(ref _buffered) == 0)
            {
                direct = (int)Math.Min(_waitingBuffer.Length, payload.Length);
                payload.Slice(0, direct).CopyTo(_waitingBuffer.Span);
                payload = payload.Slice(direct);
                reader = _waitingReader;
                _waitingReader = null;
                _waitingBuffer = default;
            }

            if (!payload.IsEmpty)
            {
                long buffered = Interlocked.Add(ref _buffered, payload.Length);
                if (buffered > _window)
                {
                    throw new PeerProtocolException($"stream {Id}: peer sent {buffered} bytes beyond the {_window}-byte window");
                }

                foreach (ReadOnlyMemory<byte> segment in payload)
                {
                    _incoming.Writer.Write(segment.Span);
                }

                // Completes at once: the pipe has no pause threshold (the credit window bounds it instead).
                ValueTask<FlushResult> flush = _incoming.Writer.FlushAsync();
                if (!flush.IsCompleted)
                {
                    throw new InvalidOperationException("stream receive pipe blocked despite having no pause threshold");
                }
            }
        }

        if (reader is not null)
        {
            GrantCredit(direct);
            reader.TrySetResult(direct);
        }
    }

    internal void OnEnd()
    {
        TaskCompletionSource<int>? reader;
        lock (_readLock)
        {
            _incoming.Writer.Complete();
            reader = _waitingReader;
            _waitingReader = null;
        }

        reader?.TrySetResult(0);
    }

    private void FailWaitingReader(Exception reason)
    {
        TaskCompletionSource<int>? reader;
        lock (_readLock)
        {
            reader = _waitingReader;
            _waitingReader = null;
        }

        reader?.TrySetException(reason);
    }

    internal void OnReset(string reason)
    {
        _reset = true;
        var error = new IOException($"stream {Id} reset by peer: {reason}");
        lock (_readLock)
        {
            _incoming.Writer.Complete(error);
        }

        FailWaitingReader(error);
        ReleaseCreditWaiter(error);
    }

    internal void OnCredit(uint bytes)
    {
        TaskCompletionSource? waiter;
        lock (_creditLock)
        {
            _sendCredit += bytes;
            waiter = _creditWaiter;
            _creditWaiter = null;
        }

        waiter?.TrySetResult();
    }

    internal void OnConnectionClosed(Exception reason)
    {
        lock (_readLock)
        {
            _incoming.Writer.Complete(reason);
        }

        FailWaitingReader(reason);
        ReleaseCreditWaiter(reason);
    }

    private void ReleaseCreditWaiter(Exception reason)
    {
        TaskCompletionSource? waiter;
        lock (_creditLock)
        {
            waiter = _creditWaiter;
            _creditWaiter = null;
        }

        waiter?.TrySetException(reason);
    }

    // ---- reading ----

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        Task<int> waiting;
        lock (_readLock)
        {
            if (_incoming.Reader.TryRead(out ReadResult result))
            {
                ReadOnlySequence<byte> data = result.Buffer;
                if (!data.IsEmpty || result.IsCompleted)
                {
                    int n = (int)Math.Min(buffer.Length, data.Length);
                    data.Slice(0, n).CopyTo(buffer.Span);
                    _incoming.Reader.AdvanceTo(data.GetPosition(n));
                    Interlocked.Add(ref _buffered, -n);
                    if (n > 0)
                    {
                        GrantCredit(n);
                    }

                    return n;
                }

                _incoming.Reader.AdvanceTo(data.Start);
            }

            if (_waitingReader is not null)
            {
                throw new InvalidOperationException("only one read at a time on a peer stream");
            }

            _waitingBuffer = buffer;
            _waitingReader = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting = _waitingReader.Task;
        }

        try
        {
            return await waiting.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_readLock)
            {
                if (_waitingReader?.Task == waiting)
                {
                    _waitingReader = null;
                    _waitingBuffer = default;
                }
            }

            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void GrantCredit(int consumed)
    {
        long total = Interlocked.Add(ref _consumedSinceCredit, consumed);
        if (total < _window / 4)
        {
            return;
        }

        long grant = Interlocked.Exchange(ref _consumedSinceCredit, 0);
        if (grant > 0 && !_reset)
        {
            byte[] payload = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)grant);
            _connection.TryEnqueue(new OutgoingFrame(FrameType.Credit, Id, payload, null));
        }
    }

    // ---- writing ----

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_writeEnded, this);

        // Queue every frame of the buffer as credit allows, then wait for all of them to leave: the
        // writer loop always has the next frame ready instead of idling while this task is rescheduled.
        var sent = new List<Task>(Math.Max(1, buffer.Length / MaxDataFrame) + 1);
        while (!buffer.IsEmpty)
        {
            int n = await TakeCreditAsync(Math.Min(buffer.Length, MaxDataFrame), cancellationToken);
            var copied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await _connection.EnqueueAsync(new OutgoingFrame(FrameType.Data, Id, buffer[..n], copied), cancellationToken);
            sent.Add(copied.Task);
            buffer = buffer[n..];
        }

        // The caller's buffer is in use until the last frame is out.
        await Task.WhenAll(sent).WaitAsync(cancellationToken);
    }

    private async ValueTask<int> TakeCreditAsync(int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_creditLock)
            {
                if (_reset)
                {
                    throw new IOException($"stream {Id} was reset");
                }

                if (_sendCredit > 0)
                {
                    int n = (int)Math.Min(wanted, _sendCredit);
                    _sendCredit -= n;
                    return n;
                }

                _creditWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _creditWaiter.Task;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Tells the peer this side has finished writing; reading goes on until the peer ends too.</summary>
    public async ValueTask CompleteWritesAsync(CancellationToken cancellationToken = default)
    {
        if (_writeEnded)
        {
            return;
        }

        _writeEnded = true;
        await _connection.EnqueueAsync(new OutgoingFrame(FrameType.End, Id, ReadOnlyMemory<byte>.Empty, null), cancellationToken);
    }

    /// <summary>Abandons the stream in both directions and tells the peer why.</summary>
    public void Reset(string reason)
    {
        if (_reset)
        {
            return;
        }

        _reset = true;
        _writeEnded = true;
        byte[] payload = System.Text.Encoding.UTF8.GetBytes(reason.Length > 200 ? reason[..200] : reason);
        _connection.TryEnqueue(new OutgoingFrame(FrameType.Reset, Id, payload, null));
        var error = new IOException($"stream {Id} reset: {reason}");
        lock (_readLock)
        {
            _incoming.Writer.Complete(error);
        }

        FailWaitingReader(error);
        ReleaseCreditWaiter(error);
        _connection.ForgetStream(Id);
    }

    public override void Flush() { }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (!_writeEnded && !_reset)
            {
                _writeEnded = true;
                _connection.TryEnqueue(new OutgoingFrame(FrameType.End, Id, ReadOnlyMemory<byte>.Empty, null));
            }

            _incoming.Reader.Complete();
            _connection.ForgetStream(Id);
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_writeEnded && !_reset && !_connection.IsClosed)
        {
            try
            {
                await CompleteWritesAsync();
            }
            catch (IOException)
            {
                // The connection is gone; nothing to tell.
            }
        }

        await base.DisposeAsync();
    }
}
