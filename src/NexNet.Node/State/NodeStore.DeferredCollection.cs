using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>A storage peer's chunks that members collected, kept until the history retention has passed.</summary>
internal sealed partial class NodeStore
{
    /// <summary>Marks <paramref name="ids"/> to be deleted once <paramref name="after"/> has passed (a later mark does not postpone an earlier one).</summary>
    public void DeferCollection(IEnumerable<ChunkId> ids, DateTimeOffset after) =>
        _db.ForEachId(ids, "INSERT OR IGNORE INTO collect_after (id, after) VALUES ($chunk, $v)", after.ToUnixTimeMilliseconds());

    /// <summary>Takes the marks off <paramref name="ids"/>: they were pushed again, so something references them again.</summary>
    public void CancelDeferredCollection(IEnumerable<ChunkId> ids) => _db.ForEachId(ids, "DELETE FROM collect_after WHERE id = $chunk", 0);

    public bool IsCollectionDeferred(ChunkId id)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT EXISTS (SELECT 1 FROM collect_after WHERE id = $id)");
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            return (long)cmd.ExecuteScalar()! != 0;
        }
    }

    public long DeferredCollectionCount() => _db.Scalar<long>("SELECT COUNT(*) FROM collect_after");

    /// <summary>Up to <paramref name="limit"/> marked chunks whose time has come.</summary>
    public IReadOnlyList<ChunkId> DueCollections(DateTimeOffset now, int limit) =>
        IdsDue("SELECT id FROM collect_after WHERE after <= $now ORDER BY after LIMIT $limit", now, limit);
}
