namespace NexNet.Node;

/// <summary>A read-only, seekable stream over one version of a file, reading through the volume (so missing chunks are fetched).</summary>
internal sealed class VolumeReadStream(Volume volume, EntryInfo file) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => file.Size;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await volume.ReadAsync(file, _position, buffer, cancellationToken);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException("volume read streams are read-only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("volume read streams are read-only");
}
