using System.Buffers;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>
/// One file that has open handles, shared by all of them, so a reader sees what a writer on this mount
/// wrote before it is committed. Its contents are the committed chunks plus edits: chunks being edited
/// sit in memory, and beyond a few per file they are sealed into the chunk store (encrypted, like any
/// chunk) and named by id; nothing plaintext ever touches the disk. Holes are chunks never written.
/// A commit (on close or fsync) turns the chunk ids into one entry record.
/// </summary>
/// <remarks>
/// Memory per file is bounded by <see cref="MaxDirty"/> + <see cref="MaxSealing"/> chunk buffers, whatever
/// the file's size. Editing a chunk that was sealed reads it back (a read-modify-write), as any chunked
/// store must. Every member is called under the file's own lock.
/// </remarks>
internal sealed class OpenFile
{
    /// <summary>Chunks kept in memory while edited; past it the lowest is sealed in the background.</summary>
    internal const int MaxDirty = 4;

    /// <summary>Background seals in flight per file (about one per core keeps a sequential writer streaming).</summary>
    internal const int MaxSealing = 2;

    private static readonly ArrayPool<byte> s_buffers = ArrayPool<byte>.Create(64 * 1024 * 1024, 16);

    private readonly IOpenFileStore _store;
    private readonly int _chunkSize;
    private readonly List<ChunkId> _ids = [];
    private readonly SortedDictionary<int, DirtyChunk> _dirty = [];
    private readonly SortedDictionary<int, (Task<ChunkId> Task, byte[] Buffer)> _sealing = [];
    private readonly List<ChunkId> _held = [];
    private long _length;

    /// <summary>A file as committed (or a new empty one, with <paramref name="entry"/> null).</summary>
    public OpenFile(IOpenFileStore store, string path, EntryInfo? entry, uint mode)
    {
        _store = store;
        _chunkSize = store.ChunkSize;
        Path = path;
        Reset(entry, mode);
        Changed = entry is null;
    }

    public Lock Gate { get; } = new();

    public string Path { get; set; }

    /// <summary>Removed from the tree while open: readable and writable through its handles, never committed.</summary>
    public bool Unlinked { get; set; }

    public int Handles { get; set; }

    /// <summary>For an unlinked file: until when it stays reachable by its hidden name (max value while libfuse still names it).</summary>
    public DateTimeOffset HiddenUntil { get; set; } = DateTimeOffset.MaxValue;

    /// <summary>The last handle was released and the buffers given back: changes by name go to the committed entry now.</summary>
    public bool Closed { get; private set; }

    /// <summary>Edits (contents or attributes) not yet committed.</summary>
    public bool Changed { get; private set; }

    public uint Mode { get; private set; }

    public DateTimeOffset Modified { get; private set; }

    public RecordVersion Version { get; private set; }

    public long Length => _length;

    /// <summary>Takes a newer committed version (a peer changed the file while no handle had edits).</summary>
    public void Reset(EntryInfo? entry, uint mode)
    {
        DropEdits();
        _ids.Clear();
        if (entry?.Content is { IsInline: true } small)
        {
            // A small file held in its record: its one chunk starts out in memory.
            _ids.Add(ChunkId.Hole);
            _length = small.Length;
            var chunk = new DirtyChunk(s_buffers.Rent(_chunkSize));
            chunk.Write(0, small.Inline.Span);
            _dirty[0] = chunk;
        }
        else if (entry?.Content is { } content)
        {
            _ids.AddRange(content.Chunks);
            _length = content.Length;
        }
        else
        {
            _length = 0;
        }

        Mode = entry?.Mode ?? mode;
        Modified = entry?.ModifiedAt ?? DateTimeOffset.UtcNow;
        Version = entry?.Version ?? RecordVersion.None;
    }

    public void SetAttributes(uint? mode, DateTimeOffset? modified)
    {
        Mode = mode ?? Mode;
        Modified = modified ?? Modified;
        Changed = true;
    }

    public int Read(long offset, Memory<byte> destination)
    {
        int total = 0;
        foreach (ChunkSpan span in ChunkSpan.Split(_chunkSize, _length, offset, destination.Length))
        {
            Memory<byte> part = destination.Slice(span.BufferOffset, span.Length);
            if (_dirty.TryGetValue(span.Index, out DirtyChunk? dirty))
            {
                dirty.CopyTo(span.Offset, part.Span);
            }
            else if (_sealing.TryGetValue(span.Index, out (Task<ChunkId>, byte[] Buffer) sealing))
            {
                sealing.Buffer.AsSpan(span.Offset, span.Length).CopyTo(part.Span);
            }
            else
            {
                _store.ReadChunkAsync(_ids, span.Index, span.Offset, part).AsTask().GetAwaiter().GetResult();
            }

            total += span.Length;
        }

        return total;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        long end = offset + data.Length;
        if (end > _length)
        {
            Resize(end);
        }

        foreach (ChunkSpan span in ChunkSpan.Split(_chunkSize, _length, offset, data.Length))
        {
            Edit(span.Index, load: !span.IsWhole(LengthOf(span.Index))).Write(span.Offset, data.Slice(span.BufferOffset, span.Length));
        }

        Modified = DateTimeOffset.UtcNow;
        Changed = true;
    }

    /// <summary>truncate(2): cut, or extend with zeros (a hole, stored as nothing).</summary>
    public void Resize(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long old = _length;
        if (length == old)
        {
            return;
        }

        if (length > old && old % _chunkSize != 0)
        {
            Edit((int)(old / _chunkSize), load: true); // its length grows: keep its bytes, zeros after
        }

        if (length < old)
        {
            int keep = (int)((length + _chunkSize - 1) / _chunkSize); // chunks that remain
            if (length % _chunkSize != 0)
            {
                Edit(keep - 1, load: true).Cut((int)(length % _chunkSize));
            }

            foreach (int index in _dirty.Keys.Where(i => i >= keep).ToList())
            {
                s_buffers.Return(_dirty[index].Buffer);
                _dirty.Remove(index);
            }

            foreach (int index in _sealing.Keys.Where(i => i >= keep).ToList())
            {
                FinishSealing(index);
            }

            _ids.RemoveRange(keep, _ids.Count - keep);
        }

        _length = length;
        int count = (int)((length + _chunkSize - 1) / _chunkSize);
        while (_ids.Count < count)
        {
            _ids.Add(ChunkId.Hole);
        }

        Modified = DateTimeOffset.UtcNow;
        Changed = true;
    }

    /// <summary>Seals every edited chunk and records the file. No-op when nothing changed or the file was unlinked.</summary>
    public void Commit()
    {
        if (!Changed || Unlinked)
        {
            return;
        }

        ChunkList content;
        if (_length <= Volume.InlineLimit && _length > 0)
        {
            byte[] bytes = new byte[_length];
            Read(0, bytes);
            content = ChunkList.Small(_chunkSize, bytes);
        }
        else
        {
            SealAll();
            content = new ChunkList(_chunkSize, _length, [.. _ids]);
        }

        EntryInfo committed = _store.CommitFile(Path, content, Mode, Modified);
        Version = committed.Version;
        Changed = false;
        // The record references what it names; chunks sealed for edits that later edits replaced are garbage now.
        var named = new HashSet<ChunkId>(content.IsInline ? [] : content.Chunks);
        List<ChunkId> replaced = [.. _held.Where(id => !named.Contains(id))];
        _held.RemoveAll(id => !named.Contains(id));
        ReleaseHolds();
        if (replaced.Count > 0)
        {
            _store.DiscardChunks(replaced);
        }
    }

    public void Reopen() => Closed = false;

    /// <summary>Last handle closed: gives back buffers and holds. An unlinked file keeps its edits as stored chunks (it may be opened again by its hidden name).</summary>
    public void Close()
    {
        Closed = true;
        if (Unlinked)
        {
            SealAll();
        }

        DropEdits();
        if (Changed && !Unlinked)
        {
            // Never committed (its commit failed, on a full disk say): what it stored is garbage, and its space comes back now.
            _store.DiscardChunks([.. _held]);
            _held.Clear();
            return;
        }

        ReleaseHolds();
    }

    private int LengthOf(int index) => (int)Math.Min(_chunkSize, _length - ((long)index * _chunkSize));

    /// <summary>The in-memory copy of chunk <paramref name="index"/>, loaded from its stored bytes when <paramref name="load"/>.</summary>
    private DirtyChunk Edit(int index, bool load)
    {
        if (_dirty.TryGetValue(index, out DirtyChunk? dirty))
        {
            return dirty;
        }

        FinishSealing(index);
        dirty = new DirtyChunk(s_buffers.Rent(_chunkSize));
        if (load && index < _ids.Count && !_ids[index].IsHole)
        {
            int length = LengthOf(index);
            _store.ReadChunkAsync(_ids, index, 0, dirty.Buffer.AsMemory(0, length)).AsTask().GetAwaiter().GetResult();
            dirty.Valid = length;
        }

        _dirty[index] = dirty;
        Spill(keep: index);
        return dirty;
    }

    /// <summary>Beyond <see cref="MaxDirty"/> chunks in memory, seals the lowest (not the one being edited) in the background.</summary>
    private void Spill(int keep)
    {
        while (_dirty.Count > MaxDirty)
        {
            int index = _dirty.Keys.First(i => i != keep);
            StartSealing(index, _dirty[index], inBackground: true);
            _dirty.Remove(index);
            while (_sealing.Count > MaxSealing)
            {
                FinishSealing(_sealing.Keys.First());
            }
        }
    }

    /// <summary>Seals chunk <paramref name="index"/> from its edited buffer (on the pool, or here); <see cref="FinishSealing"/> takes its id and the buffer back.</summary>
    private void StartSealing(int index, DirtyChunk dirty, bool inBackground)
    {
        int length = LengthOf(index);
        dirty.ZeroTo(length);
        byte[] buffer = dirty.Buffer;
        _sealing[index] = (inBackground ? Task.Run(() => _store.StoreChunk(buffer.AsSpan(0, length))) : Task.FromResult(_store.StoreChunk(buffer.AsSpan(0, length))), buffer);
    }

    /// <summary>Waits for a background seal of chunk <paramref name="index"/> (if any) and takes its id.</summary>
    private void FinishSealing(int index)
    {
        if (!_sealing.Remove(index, out (Task<ChunkId> Task, byte[] Buffer) sealing))
        {
            return;
        }

        try
        {
            ChunkId id = sealing.Task.GetAwaiter().GetResult();
            _held.Add(id);
            if (index < _ids.Count)
            {
                _ids[index] = id;
            }
        }
        finally
        {
            s_buffers.Return(sealing.Buffer);
        }
    }

    private void SealAll()
    {
        foreach ((int index, DirtyChunk dirty) in _dirty)
        {
            // One chunk (most files) is sealed right here; more go to the pool to use every core.
            StartSealing(index, dirty, inBackground: _dirty.Count > 1);
        }

        _dirty.Clear();
        foreach (int index in _sealing.Keys.ToList())
        {
            FinishSealing(index);
        }
    }

    private void DropEdits()
    {
        foreach (int index in _sealing.Keys.ToList())
        {
            try
            {
                FinishSealing(index);
            }
            catch (Exception e) when (e is IOException or IntegrityException)
            {
                // The edit is being dropped anyway.
            }
        }

        foreach (DirtyChunk dirty in _dirty.Values)
        {
            s_buffers.Return(dirty.Buffer);
        }

        _dirty.Clear();
    }

    private void ReleaseHolds()
    {
        foreach (ChunkId id in _held)
        {
            _store.ReleaseChunk(id);
        }

        _held.Clear();
    }

    /// <summary>
    /// A chunk being edited: bytes before <see cref="Valid"/> are the chunk's, the rest of the (pooled,
    /// unzeroed) buffer reads as zeros. Zeroing lazily spares a 1 MiB clear for every small file.
    /// </summary>
    private sealed class DirtyChunk(byte[] buffer)
    {
        public byte[] Buffer { get; } = buffer;

        public int Valid { get; set; }

        public void Write(int offset, ReadOnlySpan<byte> data)
        {
            ZeroTo(offset);
            data.CopyTo(Buffer.AsSpan(offset));
            Valid = Math.Max(Valid, offset + data.Length);
        }

        public void CopyTo(int offset, Span<byte> destination)
        {
            int fromBuffer = Math.Clamp(Valid - offset, 0, destination.Length);
            Buffer.AsSpan(offset, fromBuffer).CopyTo(destination);
            destination[fromBuffer..].Clear();
        }

        /// <summary>Makes the first <paramref name="length"/> bytes meaningful (zeros where nothing was written).</summary>
        public void ZeroTo(int length)
        {
            if (length > Valid)
            {
                Buffer.AsSpan(Valid, length - Valid).Clear();
                Valid = length;
            }
        }

        public void Cut(int length) => Valid = Math.Min(Valid, length);
    }
}
