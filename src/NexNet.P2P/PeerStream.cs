// Kept whole (461 lines): reading, writing and credit share one window and its locks; apart, each half would hide the other half of that invariant.
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
    private TaskCompletionSource<int>? _claimedReader;
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

    // ---- receiving (called by the connection's reader loop, one frame at a time) ----

    /// <summary>
    /// Takes a data frame's payload off the connection. If the application is waiting with a buffer and
    /// nothing is queued, the bytes are decrypted straight into that buffer; the rest (or all, when nobody
    /// waits) is queued in the pipe. The window bounds what may be queued.
    /// </summary>
    internal async ValueTask ReceiveAsync(FrameReader source, int length, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _waitingReader) is null && Interlocked.Read(ref _buffered) == 0 && !_reset)
        {
            // The application usually comes back for more right after its last read completed, but its
            // continuation is still queued on the thread pool. Yielding this thread once lets it run and
            // register, so this frame goes straight into its buffer instead of through the queue and a
            // second copy. Measured better than spinning: on two cores a spin takes the core it needs.
            await Task.Yield();
        }

        TaskCompletionSource<int>? reader = null;
        Memory<byte> target = default;
        lock (_readLock)
        {
            if (Interlocked.Read(ref _buffered) + length > _window)
            {
                throw new PeerProtocolException($"stream {Id}: peer sent {Interlocked.Read(ref _buffered) + length} bytes beyond the {_window}-byte window");
            }

            if (_waitingReader is not null && Interlocked.Read(ref _buffered) == 0)
            {
                reader = _claimedReader = _waitingReader;
                target = _waitingBuffer;
                _waitingReader = null;
                _waitingBuffer = default;
            }
        }

        int direct = 0;
        if (reader is not null)
        {
            direct = Math.Min(target.Length, length);
            try
            {
                await source.ReadExactlyAsync(target[..direct], cancellationToken);
            }
            catch (Exception e)
            {
                ReleaseClaim();
                reader.TrySetException(e is OperationCanceledException ? new IOException($"stream {Id}: connection closed") : e);
                throw;
            }

            ReleaseClaim();
            GrantCredit(direct);
            reader.TrySetResult(direct);
        }

        int rest = length - direct;
        if (rest == 0)
        {
            return;
        }

        Interlocked.Add(ref _buffered, rest); // counted before it is written: a waiting reader must not jump the queue
        while (rest > 0)
        {
            Memory<byte> memory = _incoming.Writer.GetMemory(Math.Min(rest, 64 * 1024));
            int n = Math.Min(memory.Length, rest);
            await source.ReadExactlyAsync(memory[..n], cancellationToken);
            _incoming.Writer.Advance(n);
            rest -= n;
        }

        // Completes at once: the pipe has no pause threshold (the credit window bounds it instead).
        ValueTask<FlushResult> flush = _incoming.Writer.FlushAsync(CancellationToken.None);
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("stream receive pipe blocked despite having no pause threshold");
        }

        DeliverToWaitingReader();
    }

    private void ReleaseClaim()
    {
        lock (_readLock)
        {
            _claimedReader = null;
        }
    }

    /// <summary>If the application is waiting, hands it what the pipe holds (or the end of the stream).</summary>
    private void DeliverToWaitingReader()
    {
        TaskCompletionSource<int>? reader;
        int n;
        try
        {
            lock (_readLock)
            {
                if (_waitingReader is null || !TryTakeQueued(_waitingBuffer.Span, out n))
                {
                    return;
                }

                reader = _waitingReader;
                _waitingReader = null;
                _waitingBuffer = default;
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            FailWaitingReader(e);
            return;
        }

        if (n > 0)
        {
            GrantCredit(n);
        }

        reader.TrySetResult(n);
    }

    /// <summary>Copies queued bytes out of the pipe (call under the read lock). False if there is nothing yet; true with 0 at the end of the stream.</summary>
    private bool TryTakeQueued(Span<byte> destination, out int n)
    {
        n = 0;
        if (!_incoming.Reader.TryRead(out ReadResult result))
        {
            return false;
        }

        ReadOnlySequence<byte> data = result.Buffer;
        if (data.IsEmpty && !result.IsCompleted)
        {
            _incoming.Reader.AdvanceTo(data.Start);
            return false;
        }

        n = (int)Math.Min(destination.Length, data.Length);
        data.Slice(0, n).CopyTo(destination);
        _incoming.Reader.AdvanceTo(data.GetPosition(n));
        Interlocked.Add(ref _buffered, -n);
        return true;
    }

    internal void OnEnd()
    {
        lock (_readLock)
        {
            _incoming.Writer.Complete();
        }

        DeliverToWaitingReader();
    }

    private void FailWaitingReader(Exception reason)
    {
        TaskCompletionSource<int>? reader;
        lock (_readLock)
        {
            reader = _waitingReader;
            _waitingReader = null;
            _waitingBuffer = default;
        }

        reader?.TrySetException(reason);
    }

    internal void OnReset(string reason)
    {
        _reset = true;
        Fail(new IOException($"stream {Id} reset by peer: {reason}"));
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

    /// <summary>Ends the stream with an error for everyone waiting on it: the reader, a waiting read, a writer waiting for credit.</summary>
    internal void Fail(Exception reason)
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
            if (TryTakeQueued(buffer.Span, out int queued))
            {
                if (queued > 0)
                {
                    GrantCredit(queued);
                }

                return queued;
            }

            if (_waitingReader is not null || _claimedReader is not null)
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
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_readLock)
            {
                if (_waitingReader?.Task == waiting)
                {
                    _waitingReader = null;
                    _waitingBuffer = default;
                    throw;
                }
            }

            // The connection already claimed this buffer and is filling it: the read can no longer be
            // abandoned, or the caller could reuse memory that is still being written.
            return await waiting;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void GrantCredit(int consumed)
    {
        long total = Interlocked.Add(ref _consumedSinceCredit, consumed);
        if (total < _window / 2)
        {
            return; // credit in half-window steps: the sender still has half a window to go on meanwhile
        }

        long grant = Interlocked.Exchange(ref _consumedSinceCredit, 0);
        if (grant > 0 && !_reset)
        {
            byte[] payload = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)grant);
            _connection.TryEnqueue(new OutgoingFrame(FrameType.Credit, Id, payload));
        }
    }

    // ---- writing ----

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_writeEnded, this);
        while (!buffer.IsEmpty)
        {
            int n = await TakeCreditAsync(Math.Min(buffer.Length, MaxDataFrame), cancellationToken);
            await _connection.WriteDataAsync(Id, buffer[..n], cancellationToken);
            buffer = buffer[n..];
        }
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
        await _connection.EnqueueAsync(new OutgoingFrame(FrameType.End, Id, ReadOnlyMemory<byte>.Empty), cancellationToken);
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
        _connection.TryEnqueue(new OutgoingFrame(FrameType.Reset, Id, payload));
        Fail(new IOException($"stream {Id} reset: {reason}"));
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
                _connection.TryEnqueue(new OutgoingFrame(FrameType.End, Id, ReadOnlyMemory<byte>.Empty));
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
