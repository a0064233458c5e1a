using System.Collections.Immutable;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>
/// A file's contents as chunks: every chunk but the last is exactly <see cref="ChunkSize"/> bytes, so the
/// chunk holding any offset is found by division. This is what an entry record (or its manifest) holds.
/// </summary>
/// <remarks>
/// A small file may instead carry its bytes inline (<see cref="Inline"/>, no chunks): its record holds it,
/// which spares a blob file, an index row and a replication round for each of the many small files of a
/// source tree or a mail folder.
/// </remarks>
public sealed record ChunkList(int ChunkSize, long Length, ImmutableArray<ChunkId> Chunks)
{
    public static ChunkList Empty(int chunkSize) => new(chunkSize, 0, []);

    /// <summary>A small file's contents held inline.</summary>
    public static ChunkList Small(int chunkSize, ReadOnlyMemory<byte> bytes) => new(chunkSize, bytes.Length, []) { Inline = bytes };

    /// <summary>The bytes of a file held inline (empty unless <see cref="IsInline"/>).</summary>
    public ReadOnlyMemory<byte> Inline { get; init; }

    public bool IsInline => Chunks.IsEmpty && Length > 0;

    /// <summary>Plaintext length of chunk <paramref name="index"/>.</summary>
    public int LengthOf(int index) => (int)Math.Min(ChunkSize, Length - ((long)index * ChunkSize));
}
