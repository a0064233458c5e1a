using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

internal sealed partial class NodeStore
{
    /// <summary>
    /// Blobs that may leave a cache, least recently used first: not pinned, not on the replication queue
    /// (its copies elsewhere are not all confirmed yet), not waiting for their check, and last used before
    /// <paramref name="usedBefore"/>. Pages by the (last use, id) of the last row of the previous page:
    /// pass it as <paramref name="after"/> (null for the first page).
    /// </summary>
    public IReadOnlyList<EvictionCandidate> EvictionCandidates(DateTimeOffset usedBefore, EvictionCandidate? after, int limit)
    {
        lock (_db.Lock)
        {
            // refcount is always 0 (chunk_refs holds the references), so the partial index on last_access
            // serves the order.
            SqliteCommand cmd = _db.Command("""
                SELECT id, size, last_access FROM blobs
                WHERE refcount = 0 AND pinned = 0 AND last_access < $before
                AND (last_access > $at OR (last_access = $at AND id > $id))
                AND NOT EXISTS (SELECT 1 FROM replication WHERE replication.chunk = blobs.id)
                AND NOT EXISTS (SELECT 1 FROM unverified WHERE unverified.id = blobs.id)
                ORDER BY last_access, id LIMIT $limit
                """);
            cmd.Parameters.AddWithValue("$before", usedBefore.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$at", after?.LastUsed ?? long.MinValue);
            cmd.Parameters.AddWithValue("$id", after?.Id.ToBytes() ?? []);
            cmd.Parameters.AddWithValue("$limit", limit);
            using SqliteDataReader reader = cmd.ExecuteReader();
            var candidates = new List<EvictionCandidate>();
            while (reader.Read())
            {
                candidates.Add(new EvictionCandidate(ChunkId.FromBytes((byte[])reader.GetValue(0)), reader.GetInt64(1), reader.GetInt64(2)));
            }

            return candidates;
        }
    }
}

/// <summary>A blob a cache may drop: its id, size in bytes and last use (Unix milliseconds).</summary>
internal readonly record struct EvictionCandidate(ChunkId Id, long Size, long LastUsed);
