namespace NexNet.P2P.Internal;

/// <summary>
/// Sits under a connection's SslStream and reads the socket in large pieces. SslStream asks its inner
/// stream for about one TLS record at a time (16 KiB, often as header and body), so a bulk transfer made
/// one or two receive calls per record. Measured with a bare TLS 1.3 copy to two receivers on this
/// machine: 3.85–3.90 CPU-s per GiB with a 64 KiB one under it against 4.71–4.91 without, and
/// 507–512 MiB/s against 367–423 (256 KiB: 3.62–3.72 CPU-s, 531–543 MiB/s). Writes pass straight through; only the one reader that SslStream allows touches
/// the buffer.
/// </summary>
internal sealed class ReadBufferedStream(Stream inner, int bufferSize = ReadBufferedStream.DefaultBufferSize) : Stream
{
    /// <summary>
    /// 128 KiB: 64 KiB took most of the gain (256 KiB another ~5%), and one buffer is held per
    /// connection for its life, so a node with a hundred peers holds 12.5 MiB of them.
    /// </summary>
    public const int DefaultBufferSize = 128 * 1024;

    private readonly byte[] _buffer = new byte[bufferSize];
    private int _start;
    private int _end;

    public override bool CanRead => true;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_start == _end)
        {
            if (buffer.Length == 0 || buffer.Length >= _buffer.Length)
            {
                // A zero-byte read waits for data without taking any; a read as large as ours needs no copy.
                return await inner.ReadAsync(buffer, cancellationToken);
            }

            _start = 0;
            _end = await inner.ReadAsync(_buffer, cancellationToken);
        }

        return Take(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_start == _end)
        {
            if (buffer.Length == 0 || buffer.Length >= _buffer.Length)
            {
                return inner.Read(buffer);
            }

            _start = 0;
            _end = inner.Read(_buffer);
        }

        return Take(buffer);
    }

    private int Take(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        return n;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
