namespace NexNet.Node;

/// <summary>
/// The one place that knows what a file is. Paths, files, directories and links over entry records and
/// chunks: write a file from a stream, read any byte range (fetching missing chunks from peers), stat,
/// list, mkdir, rename, delete. The FUSE adapter, the CLI and any later front end translate onto this.
/// </summary>
/// <remarks>
/// A file write returns once the file is durable here (chunks and record); copies to the chunk's owners
/// are streamed while it is written and finished from the durable replication queue. Readers hold an
/// <see cref="EntryInfo"/>, an immutable version: a concurrent change makes a new version and never
/// changes the bytes an open reader sees.
/// </remarks>
public sealed partial class Volume
{
    private readonly Tree _tree;
    private readonly ChunkStore _chunks;
    private readonly NodeStore _meta;
    private readonly Replicator _replicator;
    private readonly ChunkFetcher _fetcher;
    private readonly ReplicaVerifier _verifier;
    private readonly RecordBroadcast _broadcast;
    private readonly ChunkHolds _holds;
    private readonly CacheEviction _cache;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChunkId, byte> _unflushed = new();
    private readonly int _readAhead;
    private readonly ChunkDiscard _discard;
    private readonly SpacePressure _pressure;

    internal Volume(Tree tree, ChunkStore chunks, NodeStore meta, Replicator replicator, ChunkFetcher fetcher, ReplicaVerifier verifier, RecordBroadcast broadcast,
        ChunkHolds holds, CacheEviction cache, ChunkDiscard discard, SpacePressure pressure, int readAhead)
    {
        _discard = discard;
        _pressure = pressure;
        _cache = cache;
        _verifier = verifier;
        _holds = holds;
        _tree = tree;
        _chunks = chunks;
        _meta = meta;
        _replicator = replicator;
        _fetcher = fetcher;
        _broadcast = broadcast;
        _readAhead = readAhead;
        tree.Changed += path =>
        {
            if (!Tree.IsSnapshotPath(path))
            {
                Changed?.Invoke(path);
            }
        };
    }

    /// <summary>Raised with each path whose entry changed here, locally or from a peer (front ends drop their caches for it).</summary>
    public event Action<string>? Changed;

    public int ChunkSize => _chunks.ChunkSize;

    /// <summary>
    /// Files up to this size may be committed with their bytes inside the record (<see cref="ChunkList.Small"/>):
    /// no blob, no index row, no replication round, and every node gets them with the tree. Larger
    /// records would slow sync and cost every node (not R) the bytes.
    /// </summary>
    public const int InlineLimit = 16 * 1024;

    /// <summary>Chunks (and bytes) written here that do not yet have all their copies.</summary>
    public (long Chunks, long Bytes) ReplicationBacklog => _replicator.Backlog;

    // ------------------------------------------------------------------ reading the tree

    /// <summary>The entry at <paramref name="path"/>, or null when there is none. The root always exists.</summary>
    public EntryInfo? Stat(string path)
    {
        path = VolumePath.Normalize(path);
        if (path == VolumePath.Root)
        {
            return EntryInfo.ImplicitDirectory(path);
        }

        if (_tree.Find(path) is { } found && !found.Entry.Deleted)
        {
            return EntryCodec.ToInfo(found.Entry, found.Version);
        }

        // Entries below a directory can arrive before the directory's own record.
        return _tree.HasChildren(path) ? EntryInfo.ImplicitDirectory(path) : null;
    }

    /// <summary>The live entries directly in a directory, by name.</summary>
    public IReadOnlyList<EntryInfo> List(string path)
    {
        EntryInfo directory = RequireDirectory(VolumePath.Normalize(path));
        return _tree.Children(directory.Path);
    }

    /// <summary>Names and kinds of what is in <paramref name="path"/>: a listing that reads no contents (readdir).</summary>
    public IReadOnlyList<(string Name, EntryKind Kind)> ListKinds(string path)
    {
        EntryInfo directory = RequireDirectory(VolumePath.Normalize(path));
        return _tree.ChildKinds(directory.Path);
    }

    // ------------------------------------------------------------------ files

    /// <summary>
    /// Stores everything <paramref name="content"/> yields as the file at <paramref name="path"/> (replacing
    /// a file there), creating missing parent directories. Returns when the file is durable here.
    /// </summary>
    public async Task<EntryInfo> WriteFileAsync(string path, Stream content, uint mode = EntryInfo.DefaultFileMode, DateTimeOffset? modifiedAt = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        path = VolumePath.Normalize(path);
        RequireWritableFilePath(path);
        EnsureParents(path, Durability.Full);

        // Small files go through the queue, which batches many of them per owner; larger ones stream to
        // their owners while they are written.
        bool stream = !content.CanSeek || content.Length - content.Position > _chunks.ChunkSize;
        LiveReplication? live = stream ? _replicator.BeginLive() : null;
        ChunkList list;
        var claimed = new System.Collections.Concurrent.ConcurrentQueue<ChunkId>();
        try
        {
            // The owners are told the stream has ended as soon as the last chunk is sent: they make their
            // copies durable while this node makes its own (each a device flush), not one after the other.
            list = await _chunks.WriteAsync(content, live is null ? null : live.SendAsync, live is null ? null : live.EndStreams, id =>
            {
                _discard.Claim(id);
                claimed.Enqueue(id);
            }, cancellationToken);
            var info = new EntryInfo(path, EntryKind.File, list.Length, mode & 0xFFF, modifiedAt ?? DateTimeOffset.UtcNow, RecordVersion.None, list, null)
            {
                Properties = Stat(path)?.Properties, // read at commit, after a long write: a PROPPATCH meanwhile counts
            };
            Commit(EntryCodec.ToEntry(info), Durability.Full, () => _meta.EnqueueFile(list, DateTimeOffset.UtcNow));
        }
        catch
        {
            if (live is not null)
            {
                await live.CompleteAsync(); // the owners' requests end now, not at their timeout; their copies are unreferenced garbage
            }

            DiscardChunks([.. claimed]); // a write that failed gives its space back now, not after the collection grace
            throw;
        }

        foreach (ChunkId id in claimed)
        {
            _holds.Release(id); // the record names them now
        }

        if (live is not null)
        {
            _meta.CompleteReplication(await live.CompleteAsync());
        }

        _replicator.Kick();
        return Stat(path)!;
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes of <paramref name="file"/> at <paramref name="offset"/>; fewer only at the end.</summary>
    public async ValueTask<int> ReadAsync(EntryInfo file, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ChunkList content = file.Content ?? throw new VolumeException(VolumeError.IsADirectory, $"{file.Path} is not a file");
        if (content.IsInline)
        {
            return ChunkStore.CopyInline(content, offset, destination.Span);
        }

        int total = 0;
        foreach (ChunkSpan span in ChunkSpan.Split(content.ChunkSize, content.Length, offset, destination.Length))
        {
            await ReadChunkAsync(content.Chunks, span.Index, span.Offset, destination.Slice(span.BufferOffset, span.Length), cancellationToken);
            total += span.Length;
        }

        return total;
    }

    /// <summary>Reads the file at <paramref name="path"/> as it is now, from its start; missing chunks are fetched ahead of the reader.</summary>
    public Stream OpenRead(string path) => OpenRead(Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist"));

    /// <summary>Reads the version of a file <paramref name="info"/> is (a past one from <see cref="History"/> or <see cref="StatAt"/> too), from its start.</summary>
    public Stream OpenRead(EntryInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return info.Content is null ? throw new VolumeException(VolumeError.IsADirectory, $"{info.Path} is not a file") : new VolumeReadStream(this, info);
    }

    /// <summary>
    /// Decrypts <paramref name="destination"/>.Length bytes of chunk <paramref name="index"/> of
    /// <paramref name="chunks"/> from <paramref name="inChunk"/> on, fetching it (and the next few) from
    /// peers when it is not here. A hole reads as zeros.
    /// </summary>
    public async ValueTask ReadChunkAsync(IReadOnlyList<ChunkId> chunks, int index, int inChunk, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        ChunkId id = chunks[index];
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                _chunks.ReadChunk(id, inChunk, destination.Span);
                if (_verifier.EnsureVerified(id))
                {
                    // What was read is a replica a peer pushed, unchecked until now: read the copy just
                    // checked (a stored blob is never replaced), or fetch a good one if it failed.
                    _chunks.ReadChunk(id, inChunk, destination.Span);
                }

                _cache.Used(id);
                return;
            }
            catch (BlobNotFoundException) when (!HasRoomForCopy())
            {
                // No room to keep a copy (the disk is full for chunks): read this one from a peer without storing it.
                if (await _fetcher.FetchUnstoredAsync(id, cancellationToken) is { } blob)
                {
                    _chunks.ReadChunk(blob, id, inChunk, destination.Span);
                    return;
                }

                continue; // it arrived here meanwhile
            }
            catch (BlobNotFoundException)
            {
                for (int next = index + 1; next <= index + _readAhead && next < chunks.Count; next++)
                {
                    if (!chunks[next].IsHole)
                    {
                        _fetcher.Prefetch(chunks[next]);
                    }
                }
            }
            catch (IntegrityException) when (attempt == 0)
            {
                // The local copy is damaged: drop it and get a good one from a peer.
                _chunks.Blobs.Delete(id, _meta.Blobs);
            }

            if (attempt > 1)
            {
                throw new VolumeException(VolumeError.Unavailable, $"chunk {id} of a file vanished from the local store while being read");
            }

            try
            {
                await _fetcher.EnsureLocalAsync(id, cancellationToken);
            }
            catch (VolumeException) when (!HasRoomForCopy())
            {
                // The disk filled while the copy was on its way: the next attempt reads it through.
            }
        }
    }

    // ------------------------------------------------------------------ files edited in place (the mount)

    /// <summary>
    /// Seals and stores one chunk of a file being edited, without waiting for the disk, and holds it from
    /// collection until <see cref="ReleaseChunk"/>. <see cref="CommitFile"/> later names it in a record.
    /// </summary>
    public ChunkId StoreChunk(ReadOnlySpan<byte> plaintext)
    {
        ChunkId id = _chunks.StoreChunk(plaintext, _discard.Claim);
        _unflushed.TryAdd(id, 0);
        return id;
    }

    /// <summary>
    /// Ends the holds a write took on <paramref name="ids"/> and deletes at once those that nothing references
    /// and nobody else holds (<see cref="ChunkDiscard"/>): a write that failed, or a file released without its
    /// commit, gives its space back now rather than after the collection grace. Returns the bytes it freed.
    /// </summary>
    public long DiscardChunks(IReadOnlyCollection<ChunkId> ids)
    {
        (IReadOnlyList<ChunkId> deleted, long bytes) = _discard.Discard(ids, releaseHolds: true);
        foreach (ChunkId id in deleted)
        {
            _unflushed.TryRemove(id, out _);
        }

        _pressure.Relieve(); // one statvfs when there is room; under pressure, more goes
        return bytes;
    }

    /// <summary>True when a fetched chunk may be kept here: the store has room for a whole blob beyond its reserve.</summary>
    private bool HasRoomForCopy() => _chunks.Blobs.AvailableBytes() >= _chunks.ChunkSize + BlobFormat.HeaderSize;

    /// <summary>The data directory's disk: free bytes, the reserve, and whether the node is under space pressure.</summary>
    public SpaceState Space => _pressure.Current;

    /// <summary>What new chunks may still take here (free bytes less the reserve): what statfs and WebDAV's quota report.</summary>
    public long AvailableBytes() => _chunks.Blobs.AvailableBytes();

    /// <summary>
    /// Ends the hold <see cref="StoreChunk"/> took (the chunk is committed, or no longer wanted). The chunk
    /// counts as just used, so the cache keeps it until its commit has queued it for replication.
    /// </summary>
    public void ReleaseChunk(ChunkId id)
    {
        _holds.Release(id);
        _cache.Used(id);
    }

    /// <summary>
    /// Makes <paramref name="content"/> (chunks already stored here, or holes) the file at
    /// <paramref name="path"/>, creating missing parents, and queues its chunks for their owners. The
    /// record survives a killed process at once and a power cut after <see cref="Flush"/> (fsync): the
    /// mount's close, so the parents it creates are committed with <see cref="Durability.Relaxed"/> too.
    /// </summary>
    public EntryInfo CommitFile(string path, ChunkList content, uint mode, DateTimeOffset modifiedAt)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.IsInline && content.Length > InlineLimit)
        {
            throw new ArgumentException($"inline contents are limited to {InlineLimit} bytes", nameof(content));
        }

        path = VolumePath.Normalize(path);
        EntryInfo? existing = RequireWritableFilePath(path);
        EnsureParents(path, Durability.Relaxed);
        var info = new EntryInfo(path, EntryKind.File, content.Length, mode & 0xFFF, modifiedAt, RecordVersion.None, content, null)
        {
            Properties = existing?.Properties, // new contents, same resource: its properties stay
        };
        if (_tree.CommitDeferred(EntryCodec.ToEntry(info)) is { } record) // journaled: pushed, and its chunks queued for their owners, once it reaches the database
        {
            _broadcast.Push([record]);
        }

        return Stat(path)!;
    }

    /// <summary>Makes every chunk stored with <see cref="StoreChunk"/> and every committed change durable here (fsync).</summary>
    public void Flush()
    {
        _tree.ApplyPending();
        ChunkId[] chunks = [.. _unflushed.Keys];
        _chunks.Blobs.MakeDurable(chunks);
        foreach (ChunkId id in chunks)
        {
            _unflushed.TryRemove(id, out _);
        }

        _meta.Flush();
    }

    /// <summary>Swaps two entries (RENAME_EXCHANGE): each path ends up with the other's kind, contents and everything below it.</summary>
    public void Exchange(string a, string b, Durability durability = Durability.Full)
    {
        a = VolumePath.Normalize(a);
        b = VolumePath.Normalize(b);
        EntryInfo first = Stat(a) ?? throw new VolumeException(VolumeError.NotFound, $"{a} does not exist");
        EntryInfo second = Stat(b) ?? throw new VolumeException(VolumeError.NotFound, $"{b} does not exist");
        if (a == b)
        {
            return;
        }

        if (VolumePath.IsWithin(a, b) || VolumePath.IsWithin(b, a))
        {
            throw new VolumeException(VolumeError.InvalidPath, $"cannot exchange {a} and {b}: one is inside the other");
        }

        if (!first.IsDirectory && !second.IsDirectory)
        {
            // Both names stay present throughout: each gets the other's entry in one step.
            _broadcast.Push([_tree.Commit(EntryCodec.ToEntry(second with { Path = a }), durability: durability), _tree.Commit(EntryCodec.ToEntry(first with { Path = b }), durability: durability)]);
            return;
        }

        string parked = VolumePath.Combine(VolumePath.Parent(a), $".nexnet-exchange-{Guid.NewGuid():N}");
        Rename(a, parked, replace: false, durability);
        Rename(b, a, replace: false, durability);
        Rename(parked, b, replace: false, durability);
    }

    /// <summary>Live entries in the tree (files, directories, links), for statfs.</summary>
    public long EntryCount() => _meta.LiveEntryCount();

    /// <summary>Bytes of sealed chunks this node's store holds (its own files' and those it keeps for others).</summary>
    public long StoredBytes() => _meta.Blobs.BlobTotals().Bytes;

    // ------------------------------------------------------------------ helpers

    private void Commit(Entry entry, Durability durability, Action? alsoInTransaction = null) => _broadcast.Push([_tree.Commit(entry, alsoInTransaction, durability)]);

    /// <summary>Throws unless a file may be written at <paramref name="path"/>; returns what is there now (a file's record keeps its properties).</summary>
    private EntryInfo? RequireWritableFilePath(string path)
    {
        EntryInfo? existing = path == VolumePath.Root ? null : Stat(path);
        if (path == VolumePath.Root || existing is { IsDirectory: true })
        {
            throw new VolumeException(VolumeError.IsADirectory, $"{path} is a directory");
        }

        return existing;
    }

    private EntryInfo RequireDirectory(string path)
    {
        EntryInfo info = Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        return info.IsDirectory ? info : throw new VolumeException(VolumeError.NotADirectory, $"{path} is not a directory");
    }

    /// <summary>Creates the missing directories above <paramref name="path"/> (as mkdir -p); fails if one of them is a file.</summary>
    private void EnsureParents(string path, Durability durability)
    {
        string parent = VolumePath.Parent(path);
        if (parent == VolumePath.Root)
        {
            return;
        }

        EntryInfo? existing = Stat(parent);
        if (existing is null)
        {
            EnsureParents(parent, durability);
            Commit(NewEntry(parent, EntryKind.Directory, EntryInfo.DefaultDirectoryMode), durability);
        }
        else if (!existing.IsDirectory)
        {
            throw new VolumeException(VolumeError.NotADirectory, $"{parent} is not a directory");
        }
    }

    private static Entry NewEntry(string path, EntryKind kind, uint mode) =>
        EntryCodec.ToEntry(new EntryInfo(path, kind, 0, mode & 0xFFF, DateTimeOffset.UtcNow, RecordVersion.None, null, null));

    private static Entry Tombstone(EntryInfo info)
    {
        Entry entry = NewEntry(info.Path, info.Kind, info.Mode);
        entry.Deleted = true;
        return entry;
    }
}
