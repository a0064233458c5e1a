namespace NexNet.Node.Space;

/// <summary>
/// Space pressure as a state. Below the pressure line (twice the store's reserve of free disk) the node
/// gives space back in this order, until it is above the line again: chunks nothing references (without
/// waiting out the collection grace), copies it holds only as a cache (never a chunk it owns or has not
/// yet replicated), then history, oldest version first, never a chunk with fewer than R copies elsewhere.
/// In a network that means history yields its copies, never its versions (<see cref="HistoryCopyRelease"/>:
/// only copies R other nodes prove they hold). A node that has never had a peer has no elsewhere: it
/// prunes its oldest versions with their chunks. Never a snapshot's version, never a live file's chunk. It
/// says in one log line what it gave up and how much is free, and <see cref="Current"/> is what <c>status</c> shows.
/// </summary>
internal sealed class SpacePressure
{
    private readonly BlobStore _blobs;
    private readonly NodeStore _meta;
    private readonly CacheEviction _cache;
    private readonly Func<IReadOnlyList<long>> _pins;
    private readonly Func<IReadOnlyCollection<ChunkId>, long> _discard;
    private readonly HistoryCopyRelease _historyCopies;
    private readonly Func<bool> _alone;
    private readonly ILogger _log;
    private readonly Lock _lock = new();

    /// <summary>
    /// <paramref name="discard"/> deletes at once those of the chunks a pruned version let go of that nothing
    /// references or holds (see Volume.DiscardChunks), returning the bytes freed. <paramref name="alone"/>
    /// says whether this node has never had a peer.
    /// </summary>
    public SpacePressure(BlobStore blobs, NodeStore meta, CacheEviction cache, Func<IReadOnlyList<long>> pins, Func<IReadOnlyCollection<ChunkId>, long> discard,
        HistoryCopyRelease historyCopies, Func<bool> alone, ILogger log)
    {
        _historyCopies = historyCopies;
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
            bool stillShort = _blobs.FreeBytes() < Line;
            if (stillShort && _alone())
            {
                versions = _meta.PruneOldestWhile(() => _blobs.FreeBytes() < Line, _pins(), released => historyBytes += _discard([.. released]));
            }
            else if (stillShort)
            {
                _historyCopies.Start(Line); // in the background: it asks peers for proofs, and says what it gave up in a line of its own
            }

            Current = Measure(true);
            Log.SpacePressure(_log, Current.FreeBytes, Line, garbageBytes, copies, copyBytes, versions, historyBytes, _meta.VersionCount());
            return Current;
        }
    }

    private SpaceState Measure(bool relieved)
    {
        long free = _blobs.FreeBytes();
        return new SpaceState(free, _blobs.Reserve, free < Line, relieved);
    }
}
