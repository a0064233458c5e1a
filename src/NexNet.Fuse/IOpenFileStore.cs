using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>
/// What an <see cref="OpenFile"/> needs of the volume: read a committed chunk, seal an edited one, let
/// go of it, and commit the file. Its own interface so the mount's edit logic (read-modify-write,
/// holes, truncation, the bound on buffers) is tested against a fake in memory, and
/// <see cref="VolumeFileStore"/> is the only place that forwards to <see cref="Volume"/>.
/// </summary>
internal interface IOpenFileStore
{
    int ChunkSize { get; }

    /// <summary>Reads <paramref name="destination"/>.Length bytes of chunk <paramref name="index"/> of <paramref name="chunks"/>, from <paramref name="inChunk"/>.</summary>
    ValueTask ReadChunkAsync(IReadOnlyList<ChunkId> chunks, int index, int inChunk, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Seals and stores an edited chunk, held from collection until <see cref="ReleaseChunk"/>.</summary>
    ChunkId StoreChunk(ReadOnlySpan<byte> plaintext);

    void ReleaseChunk(ChunkId id);

    /// <summary>Ends the holds on chunks no longer wanted (a write that failed, edits never committed) and deletes at once those nothing references.</summary>
    void DiscardChunks(IReadOnlyCollection<ChunkId> ids);

    /// <summary>Makes <paramref name="content"/> the file at <paramref name="path"/>; returns the committed entry.</summary>
    EntryInfo CommitFile(string path, ChunkList content, uint mode, DateTimeOffset modifiedAt);
}
