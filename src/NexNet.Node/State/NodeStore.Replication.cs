using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>
/// The durable replication queue: chunks that may still have fewer copies than they should. A chunk
/// leaves it only once its owners have confirmed holding it, so a restart resumes where it stopped.
/// </summary>
internal sealed partial class NodeStore
{
    /// <summary>Queues chunks (already queued ones are made due now).</summary>
    public void EnqueueReplication(IEnumerable<(ChunkId Id, long Size)> chunks, DateTimeOffset now, Durability durability = Durability.Full) =>
        _db.ForEachSizedId(chunks, """
            INSERT INTO replication (chunk, size, next_try) VALUES ($chunk, $size, $now)
            ON CONFLICT (chunk) DO UPDATE SET next_try = MIN(next_try, excluded.next_try)
            """, now, durability);

    /// <summary>Queues the chunks of a file (each once; holes are no chunk), with their sealed sizes.</summary>
    public void EnqueueFile(ChunkList content, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(content);
        var seen = new HashSet<ChunkId>();
        var items = new List<(ChunkId, long)>(content.Chunks.Length);
        for (int i = 0; i < content.Chunks.Length; i++)
        {
            if (!content.Chunks[i].IsHole && seen.Add(content.Chunks[i]))
            {
                items.Add((content.Chunks[i], BlobFormat.SealedLength(content.LengthOf(i))));
            }
        }

        EnqueueReplication(items, now);
    }

    /// <summary>Queues every indexed blob (repair: the owners of anything this node holds may have changed).</summary>
    public void EnqueueAllBlobsForReplication(DateTimeOffset now)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                INSERT INTO replication (chunk, size, next_try) SELECT id, size, $now FROM blobs WHERE true
                ON CONFLICT (chunk) DO UPDATE SET next_try = MIN(next_try, excluded.next_try)
                """);
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Queued chunks due at <paramref name="now"/>, soonest first.</summary>
    public IReadOnlyList<ChunkId> DueReplication(DateTimeOffset now, int limit) =>
        IdsDue("SELECT chunk FROM replication WHERE next_try <= $now ORDER BY next_try LIMIT $limit", now, limit);

    /// <summary>The ids <paramref name="sql"/> selects with <c>$now</c> (Unix milliseconds) and <c>$limit</c> bound.</summary>
    private List<ChunkId> IdsDue(string sql, DateTimeOffset now, int limit)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command(sql);
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$limit", limit);
            return MetaDatabase.ReadIds(cmd);
        }
    }

    /// <summary>Puts queued chunks off until <paramref name="nextTry"/>.</summary>
    public void DeferReplication(IEnumerable<ChunkId> chunks, DateTimeOffset nextTry, Durability durability = Durability.Full) =>
        _db.ForEachId(chunks, "UPDATE replication SET next_try = $v WHERE chunk = $chunk", nextTry.ToUnixTimeMilliseconds(), durability);

    /// <summary>Takes chunks off the queue: their owners hold them.</summary>
    public void CompleteReplication(IEnumerable<ChunkId> chunks, Durability durability = Durability.Full) =>
        _db.ForEachId(chunks, "DELETE FROM replication WHERE chunk = $chunk", 0, durability);

    /// <summary>How many chunks (and bytes) still wait for copies.</summary>
    public (long Chunks, long Bytes) ReplicationBacklog() => _db.Pair("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM replication");
}
