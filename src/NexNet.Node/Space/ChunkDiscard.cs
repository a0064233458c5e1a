namespace NexNet.Node.Space;

/// <summary>
/// Deletes chunks at once, without the collection grace, when it is safe: those a failed or abandoned
/// write stored, and those pruned history let go of under space pressure. The grace exists because a
/// writer may be about to reuse an unreferenced chunk (content addressing); here every writer claims each
/// chunk (<see cref="Claim"/>) before the store looks for it, under the lock a discard deletes under. So a
/// claimed chunk is never deleted, and one deleted first is not found, and the writer stores it again.
/// </summary>
internal sealed class ChunkDiscard(ChunkHolds holds, NodeStore meta, BlobStore blobs, Action settleTree)
{
    private readonly Lock _lock = new();

    /// <summary>Holds <paramref name="id"/> for a write about to store or reuse it (released by that write, or by <see cref="Discard"/>).</summary>
    public void Claim(ChunkId id)
    {
        lock (_lock)
        {
            holds.Hold(id);
        }
    }

    /// <summary>
    /// Deletes those of <paramref name="ids"/> that no record references and nobody holds, after ending the
    /// caller's own holds on them when <paramref name="releaseHolds"/>. Returns what it deleted and the bytes.
    /// </summary>
    public (IReadOnlyList<ChunkId> Deleted, long Bytes) Discard(IReadOnlyCollection<ChunkId> ids, bool releaseHolds)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (releaseHolds)
        {
            foreach (ChunkId id in ids)
            {
                holds.Release(id);
            }
        }

        settleTree(); // a commit still on its way to the database may name them
        var deleted = new List<ChunkId>();
        long bytes = 0;
        lock (_lock)
        {
            foreach (ChunkId id in ids.Distinct())
            {
                if (!id.IsHole && !holds.IsHeld(id) && !meta.IsReferenced(id) && meta.Blobs.GetBlob(id) is { } blob)
                {
                    blobs.Delete(id, meta.Blobs);
                    deleted.Add(id);
                    bytes += blob.Size;
                }
            }
        }

        if (deleted.Count > 0)
        {
            meta.CompleteReplication(deleted);
        }

        return (deleted, bytes);
    }

    /// <summary>
    /// Deletes this node's copies of those of <paramref name="ids"/> that only history references, that wait
    /// for no replication and that nobody holds, all asked again under the lock (a write may have reused one
    /// since they were picked): copies R other nodes proved they hold (space pressure, HistoryCopyRelease),
    /// which a read fetches back. Returns how many went and their bytes.
    /// </summary>
    public (int Count, long Bytes) DropCopies(IEnumerable<(ChunkId Id, long Size)> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        settleTree(); // a commit still on its way to the database may name them
        int count = 0;
        long bytes = 0;
        lock (_lock)
        {
            foreach ((ChunkId id, long size) in ids)
            {
                if (!holds.IsHeld(id) && meta.IsHistoryOnlyCopy(id) && blobs.Delete(id, meta.Blobs))
                {
                    count++;
                    bytes += size;
                }
            }
        }

        return (count, bytes);
    }
}
