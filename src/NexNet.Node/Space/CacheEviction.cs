using System.Collections.Concurrent;

namespace NexNet.Node.Space;

/// <summary>
/// Keeps the local store under its size limit (the store is also a cache: docs/node.md, "The store as a cache") by deleting the least
/// recently used chunks this node holds only as a cache: fetched on a miss, or written here for owners that
/// have all confirmed their copies. Never a chunk this node owns, one still on the replication queue, one
/// an open file holds, one not yet checked, nor one stored or used within the last <c>minimumAge</c> (a
/// chunk just written is indexed a moment before it is queued). Past that, a limit the owned chunks alone
/// exceed is not met: what must stay, stays.
/// </summary>
/// <remarks>
/// Reads only note a chunk in memory (<see cref="Used"/>); the notes are written to the blob index as
/// last-use times before each pass (or once 65,536 pile up), so a read costs no database write. A chunk
/// whose hold ends is noted too: an open file's new chunk is queued for replication only when its
/// deferred commit is stored, a moment after the hold ends, and until then only its age protects it.
/// </remarks>
internal sealed class CacheEviction
{
    private const int BatchSize = 1024;
    private const int MaxNotedUses = 65_536;

    private readonly long _limit;
    private readonly TimeSpan _minimumAge;
    private readonly NodeId _self;
    private readonly Func<IReadOnlyList<NodeId>> _members;
    private readonly int _replicationFactor;
    private readonly NodeStore _meta;
    private readonly BlobStore _blobs;
    private readonly ChunkHolds _holds;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<ChunkId, byte> _used = new();
    private readonly Lock _lock = new();

    /// <summary>A <paramref name="limit"/> of 0 or less means no limit: nothing is noted or evicted.</summary>
    public CacheEviction(long limit, TimeSpan minimumAge, NodeId self, Func<IReadOnlyList<NodeId>> members, int replicationFactor, NodeStore meta,
        BlobStore blobs, ChunkHolds holds, ILogger log)
    {
        _limit = limit;
        _minimumAge = minimumAge;
        _self = self;
        _members = members;
        _replicationFactor = replicationFactor;
        _meta = meta;
        _blobs = blobs;
        _holds = holds;
        _log = log;
    }

    /// <summary>The bound in bytes, 0 for none.</summary>
    public long Limit => Math.Max(0, _limit);

    /// <summary>Notes that a chunk was just read (cheap: memory only).</summary>
    public void Used(ChunkId id)
    {
        // Never waits for a pass under way (a read must not stall behind deletions): that pass has written the
        // notes it found, and the first use noted after it ends writes these.
        if (_limit > 0 && _used.TryAdd(id, 0) && _used.Count >= MaxNotedUses && _lock.TryEnter())
        {
            try
            {
                WriteUses();
            }
            finally
            {
                _lock.Exit();
            }
        }
    }

    /// <summary>Deletes cached chunks, least recently used first, until the store is within its limit or nothing more may go. Returns how many and their bytes.</summary>
    public (int Count, long Bytes) Evict() => _limit <= 0 ? (0, 0) : EvictTo(_limit);

    /// <summary>As <see cref="Evict"/>, down to <paramref name="target"/> bytes stored (space pressure asks for less than the limit).</summary>
    public (int Count, long Bytes) EvictTo(long target)
    {
        int count = 0;
        long bytes = 0;
        lock (_lock)
        {
            WriteUses();
            long stored = _meta.Blobs.BlobTotals().Bytes;
            if (stored <= target)
            {
                return (0, 0);
            }

            IReadOnlyList<NodeId> members = _members();
            DateTimeOffset usedBefore = DateTimeOffset.UtcNow - _minimumAge;
            EvictionCandidate? after = null;
            while (stored > target)
            {
                IReadOnlyList<EvictionCandidate> page = _meta.EvictionCandidates(usedBefore, after, BatchSize);
                if (page.Count == 0)
                {
                    break;
                }

                foreach (EvictionCandidate candidate in page)
                {
                    after = candidate;
                    // Asked now, not at the start of the pass: a hold taken, or a use noted, since then counts.
                    if (_holds.IsHeld(candidate.Id) || _used.ContainsKey(candidate.Id) ||
                        Array.IndexOf(Placement.Owners(candidate.Id, members, _replicationFactor), _self) >= 0)
                    {
                        continue;
                    }

                    _blobs.Delete(candidate.Id, _meta.Blobs);
                    stored -= candidate.Size;
                    bytes += candidate.Size;
                    count++;
                    if (stored <= target)
                    {
                        break;
                    }
                }
            }

            if (count > 0)
            {
                Log.Evicted(_log, count, bytes, target, stored);
            }
        }

        return (count, bytes);
    }

    private void WriteUses()
    {
        if (_used.IsEmpty)
        {
            return;
        }

        ChunkId[] ids = [.. _used.Keys];
        foreach (ChunkId id in ids)
        {
            _used.TryRemove(id, out _);
        }

        // Relaxed: the uses only order eviction, and this runs on a mount's read or close, whose own
        // changes wait for fsync too; a power cut loses some recency, nothing else.
        _meta.Blobs.TouchAll(ids, DateTimeOffset.UtcNow, Durability.Relaxed);
    }
}
