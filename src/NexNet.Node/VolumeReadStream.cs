namespace NexNet.Node;

/// <summary>A read-only, seekable stream over one version of a file, reading through the volume (so missing chunks are fetched).</summary>
internal sealed class VolumeReadStream(Volume volume, EntryInfo file) : RandomAccessReadStream
{
    public override long Length => file.Size;

    /// <summary>Synchronous callers wait for the fetch (through a pooled buffer: a span cannot cross an await).</summary>
    protected override int ReadAt(long position, Span<byte> buffer)
    {
        byte[] bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int n = ReadAtAsync(position, bytes.AsMemory(0, buffer.Length), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            bytes.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    protected override ValueTask<int> ReadAtAsync(long position, Memory<byte> buffer, CancellationToken cancellationToken) =>
        volume.ReadAsync(file, position, buffer, cancellationToken);
}
