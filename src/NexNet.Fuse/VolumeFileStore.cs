using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>The mount's open files over the real <see cref="Volume"/>.</summary>
internal sealed class VolumeFileStore(Volume volume) : IOpenFileStore
{
    public int ChunkSize => volume.ChunkSize;

    public ValueTask ReadChunkAsync(IReadOnlyList<ChunkId> chunks, int index, int inChunk, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        volume.ReadChunkAsync(chunks, index, inChunk, destination, cancellationToken);

    public ChunkId StoreChunk(ReadOnlySpan<byte> plaintext) => volume.StoreChunk(plaintext);

    public void ReleaseChunk(ChunkId id) => volume.ReleaseChunk(id);

    public void DiscardChunks(IReadOnlyCollection<ChunkId> ids) => volume.DiscardChunks(ids);

    public EntryInfo CommitFile(string path, ChunkList content, uint mode, DateTimeOffset modifiedAt) => volume.CommitFile(path, content, mode, modifiedAt);
}
