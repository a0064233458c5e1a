namespace NexNet.Storage;

/// <summary>A read-only, seekable stream over a chunk list; each read decrypts only what it returns.</summary>
internal sealed class ChunkReadStream(ChunkStore store, ChunkList file) : RandomAccessReadStream
{
    public override long Length => file.Length;

    protected override int ReadAt(long position, Span<byte> buffer) => store.Read(file, position, buffer);
}
