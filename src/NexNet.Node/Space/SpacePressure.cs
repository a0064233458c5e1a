namespace NexNet.Node.Space;

/// <summary>
/// Space pressure as a state. Below the pressure line (twice the store's reserve of free disk) the node
/// gives space back in this order, until it is above the line again: chunks nothing references (without
/// waiting out the collection grace), copies it holds only as a cache (never a chunk it owns or has not
/// yet replicated), then history, oldest version first. In a network, history yields its copies, never its
/// versions: a chunk only history references goes from this node when this node is not one of its owners
/// (so its R owners hold confirmed copies), and the version stays, read back from them; a chunk it owns
/// stays (elsewhere are only R - 1). A node that has never had a peer has no elsewhere: it prunes its oldest
/// versions with their chunks. Never a snapshot's version, never a live file's chunk. It says in one log
/// line what it gave up and how much is free, and <see cref="Current"/> is what <c>status</c> shows.
/// </summary>
internal sealed class SpacePressure
{
    private readonly BlobStore _blobs;
    private readonly NodeStore _meta;
    private readonly CacheEviction _cache;
    private readonly Func<IReadOnlyList<long>> _pins;
    private readonly Func<IReadOnlyCollection<ChunkId>, long> _discard;
    private readonly Func<(ChunkId Id, long Size)[], (int Count, long Bytes)> _dropCopies;
    private readonly Func<ChunkId, bool> _copiesElsewhere;
    private readonly Func<bool> _alone;
    private (long Versions, DateTimeOffset At)? _fruitless;
    private readonly ILogger _log;
    private readonly Lock _lock = new();

    /// <summary>
    /// <paramref name="discard"/> deletes at once those of the chunks a pruned version let go of that nothing
    /// references or holds (see Volume.DiscardChunks), returning the bytes freed; <paramref name="dropCopies"/>
    /// deletes copies nobody holds, referenced or not (ChunkDiscard.DropCopies). <paramref name="copiesElsewhere"/>
    /// says whether a chunk has its replication factor of copies on other nodes; <paramref name="alone"/>,
    /// whether this node has never had a peer.
    /// </summary>
    public SpacePressure(BlobStore blobs, NodeStore meta, CacheEviction cache, Func<IReadOnlyList<long>> pins, Func<IReadOnlyCollection<ChunkId>, long> discard,
        Func<(ChunkId Id, long Size)[], (int Count, long Bytes)> dropCopies, Func<ChunkId, bool> copiesElsewhere, Func<bool> alone, ILogger log)
    {
        _dropCopies = dropCopies;
        _copiesElsewhere = copiesElsewhere;
        _alone = alone;
        _blobs = blobs;
        _meta = meta;
        _cache = cache;
        _pins = pins;
        _discard = discard;
        _log = log;
        Current = Measure(false);
    }

    /// <summary>Free bytes below which the node is under pressure.</summary>
    public long Line => 2 * _blobs.Reserve;

    /// <summary>The state as last measured (at each collection pass, and when a write ran out of room).</summary>
    public SpaceState Current { get; private set; }

    /// <summary>Measures, and under pressure gives space back; returns the state after.</summary>
    public SpaceState Relieve()
    {
        lock (_lock)
        {
            long free = _blobs.FreeBytes();
            if (free >= Line)
            {
                return Current = Measure(false);
            }

            // First what nothing references (garbage waiting out its grace: claims make deleting it now safe),
            // then copies held only as a cache, then history.
            long garbageBytes = 0;
            while (_blobs.FreeBytes() < Line && _meta.UnreferencedBlobs(DateTimeOffset.MaxValue, 256) is { Count: > 0 } garbage)
            {
                long freed = _discard(garbage);
                garbageBytes += freed;
                if (freed == 0)
                {
                    break; // all held by writers under way
                }
            }

            long needed = Line - _blobs.FreeBytes();
            (int copies, long copyBytes) = needed <= 0 ? (0, 0) : _cache.EvictTo(Math.Max(0, _meta.Blobs.BlobTotals().Bytes - needed));
            long historyBytes = 0;
            int versions = 0;
            (int historyCopies, long historyCopyBytes) = (0, 0);
            bool stillShort = _blobs.FreeBytes() < Line;
            if (stillShort && _alone())
            {
                versions = _meta.PruneOldestWhile(() => _blobs.FreeBytes() < Line, _pins(), released => historyBytes += _discard([.. released]));
            }
            else if (stillShort)
            {
                (historyCopies, historyCopyBytes) = DropHistoryCopies();
            }

            Current = Measure(true);
            Log.SpacePressure(_log, Current.FreeBytes, Line, garbageBytes, copies, copyBytes, historyCopies, historyCopyBytes, versions, historyBytes, _meta.VersionCount());
            return Current;
        }
    }

    /// <summary>
    /// Deletes this node's copies of chunks only history references, oldest version first, where their owners
    /// hold them, until above the line. A walk of the whole history that found nothing to drop is not
    /// repeated for a minute unless history changed (pressure is relieved after every discard).
    /// </summary>
    private (int Count, long Bytes) DropHistoryCopies()
    {
        long versions = _meta.VersionCount();
        if (_fruitless is { } last && last.Versions == versions && DateTimeOffset.UtcNow - last.At < TimeSpan.FromMinutes(1))
        {
            return (0, 0);
        }

        int count = 0;
        long bytes = 0;
        HistoryCursor? at = null;
        do
        {
            (IReadOnlyList<(ChunkId Id, long Size)> chunks, at) = _meta.HistoryOnlyCopies(at, 16);
            (int dropped, long freed) = _dropCopies([.. chunks.Where(c => _copiesElsewhere(c.Id))]);
            count += dropped;
            bytes += freed;
        }
        while (at is not null && _blobs.FreeBytes() < Line);

        _fruitless = count == 0 && at is null ? (versions, DateTimeOffset.UtcNow) : null;
        return (count, bytes);
    }

    private SpaceState Measure(bool relieved)
    {
        long free = _blobs.FreeBytes();
        return new SpaceState(free, _blobs.Reserve, free < Line, relieved);
    }
}
