using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Fuse;
using NexNet.Node;
using NexNet.P2P;
using NexNet.Storage;

namespace NexNet.UnitTests.Fuse;

/// <summary>The volume as an open file sees it, in memory: chunks by id, holds counted, commits kept.</summary>
internal sealed class FakeFileStore(int chunkSize) : IOpenFileStore
{
    private static readonly NodeId s_self = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
    private readonly Dictionary<ChunkId, byte[]> _chunks = [];
    private long _clock;

    public int ChunkSize { get; } = chunkSize;

    /// <summary>Chunks sealed, in order (one per StoreChunk call).</summary>
    public List<ChunkId> Stored { get; } = [];

    public List<ChunkId> Released { get; } = [];

    /// <summary>How many times the file was committed.</summary>
    public int Commits { get; private set; }

    public EntryInfo? Committed { get; private set; }

    /// <summary>Stores a file's chunks as if committed earlier, and returns its entry.</summary>
    public EntryInfo Existing(string path, byte[] contents)
    {
        var ids = new List<ChunkId>();
        for (int at = 0; at < contents.Length; at += ChunkSize)
        {
            byte[] chunk = contents[at..Math.Min(contents.Length, at + ChunkSize)];
            ChunkId id = IdOf(chunk);
            _chunks[id] = chunk;
            ids.Add(id);
        }

        return Entry(path, new ChunkList(ChunkSize, contents.Length, [.. ids]), 0x1A4, DateTimeOffset.UtcNow);
    }

    /// <summary>The bytes a committed file holds, read back from its chunk list.</summary>
    public byte[] ContentsOf(EntryInfo entry)
    {
        ChunkList list = entry.Content!;
        if (list.IsInline)
        {
            return list.Inline.ToArray();
        }

        var bytes = new byte[list.Length];
        for (int i = 0; i < list.Chunks.Length; i++)
        {
            int length = list.LengthOf(i);
            if (!list.Chunks[i].IsHole)
            {
                Assert.Equal(length, _chunks[list.Chunks[i]].Length);
                _chunks[list.Chunks[i]].CopyTo(bytes, (long)i * ChunkSize);
            }
        }

        return bytes;
    }

    public ValueTask ReadChunkAsync(IReadOnlyList<ChunkId> chunks, int index, int inChunk, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (chunks[index].IsHole)
        {
            destination.Span.Clear();
        }
        else
        {
            _chunks[chunks[index]].AsSpan(inChunk, destination.Length).CopyTo(destination.Span);
        }

        return ValueTask.CompletedTask;
    }

    public ChunkId StoreChunk(ReadOnlySpan<byte> plaintext)
    {
        byte[] chunk = plaintext.ToArray();
        ChunkId id = IdOf(chunk);
        lock (_chunks)
        {
            _chunks[id] = chunk;
            Stored.Add(id);
        }

        return id;
    }

    public void ReleaseChunk(ChunkId id)
    {
        lock (_chunks)
        {
            Released.Add(id);
        }
    }

    /// <summary>Chunks given up as garbage (their holds end too: they count as released).</summary>
    public List<ChunkId> Discarded { get; } = [];

    public void DiscardChunks(IReadOnlyCollection<ChunkId> ids)
    {
        lock (_chunks)
        {
            Discarded.AddRange(ids);
            Released.AddRange(ids);
        }
    }

    public EntryInfo CommitFile(string path, ChunkList content, uint mode, DateTimeOffset modifiedAt)
    {
        Commits++;
        Committed = Entry(path, content, mode, modifiedAt);
        return Committed;
    }

    private EntryInfo Entry(string path, ChunkList content, uint mode, DateTimeOffset modifiedAt) =>
        new(path, EntryKind.File, content.Length, mode, modifiedAt, new RecordVersion(++_clock, s_self), content, null);

    private static ChunkId IdOf(byte[] chunk) => ChunkId.FromBytes(SHA256.HashData(chunk));
}
