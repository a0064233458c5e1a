using System.Collections.Immutable;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>
/// A file's contents as chunks: every chunk but the last is exactly <see cref="ChunkSize"/> bytes, so the
/// chunk holding any offset is found by division. This is what an entry record (or its manifest) holds.
/// </summary>
public sealed record ChunkList(int ChunkSize, long Length, ImmutableArray<ChunkId> Chunks)
{
    public static ChunkList Empty(int chunkSize) => new(chunkSize, 0, []);

    /// <summary>Plaintext length of chunk <paramref name="index"/>.</summary>
    public int LengthOf(int index) => (int)Math.Min(ChunkSize, Length - ((long)index * ChunkSize));
}
