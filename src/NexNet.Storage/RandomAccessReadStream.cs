namespace NexNet.Storage;

/// <summary>
/// A read-only, seekable stream over something of known length that can be read at any offset. The
/// position, seeking and the clamp at the end live here once; a subclass supplies only the positional
/// read (and an asynchronous one when its reads may wait on the network).
/// </summary>
public abstract class RandomAccessReadStream : Stream
{
    private long _position;

    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => true;

    public sealed override bool CanWrite => false;

    public sealed override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="position"/>, which is below <see cref="Stream.Length"/>.</summary>
    protected abstract int ReadAt(long position, Span<byte> buffer);

    /// <summary>The asynchronous <see cref="ReadAt"/>; by default it runs the synchronous one.</summary>
    protected virtual ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadAt(position, buffer.Span));

    public sealed override int Read(Span<byte> buffer)
    {
        int n = Remaining(buffer.Length);
        if (n == 0)
        {
            return 0;
        }

        n = ReadAt(_position, buffer[..n]);
        _position += n;
        return n;
    }

    public sealed override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public sealed override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = Remaining(buffer.Length);
        if (n == 0)
        {
            return 0;
        }

        n = await ReadAtAsync(_position, buffer[..n], cancellationToken);
        _position += n;
        return n;
    }

    public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public sealed override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public sealed override void Flush() { }

    public sealed override void SetLength(long value) => throw new NotSupportedException("this stream is read-only");

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("this stream is read-only");

    private int Remaining(int wanted) => (int)Math.Clamp(Length - _position, 0, wanted);
}
