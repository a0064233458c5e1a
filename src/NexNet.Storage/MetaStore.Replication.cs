using Microsoft.Data.Sqlite;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>
/// The durable replication queue: chunks that may still have fewer copies than they should. A chunk
/// leaves it only once its owners have confirmed holding it, so a restart resumes where it stopped.
/// </summary>
public sealed partial class MetaStore
{
    /// <summary>Queues chunks (already queued ones are made due now).</summary>
    public void EnqueueReplication(IEnumerable<(ChunkId Id, long Size)> chunks, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = JoinOrBegin();
        SqliteCommand cmd = Command("""
            INSERT INTO replication (chunk, size, next_try) VALUES ($chunk, $size, $now)
            ON CONFLICT (chunk) DO UPDATE SET next_try = MIN(next_try, excluded.next_try)
            """);
        SqliteParameter chunk = cmd.Parameters.Add("$chunk", SqliteType.Blob);
        SqliteParameter size = cmd.Parameters.Add("$size", SqliteType.Integer);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        foreach ((ChunkId id, long bytes) in chunks)
        {
            chunk.Value = id.ToBytes();
            size.Value = bytes;
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }

    /// <summary>Queues every indexed blob (repair: the owners of anything this node holds may have changed).</summary>
    public void EnqueueAllBlobsForReplication(DateTimeOffset now)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("""
                INSERT INTO replication (chunk, size, next_try) SELECT id, size, $now FROM blobs WHERE true
                ON CONFLICT (chunk) DO UPDATE SET next_try = MIN(next_try, excluded.next_try)
                """);
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Queued chunks due at <paramref name="now"/>, soonest first.</summary>
    public IReadOnlyList<ChunkId> DueReplication(DateTimeOffset now, int limit)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT chunk FROM replication WHERE next_try <= $now ORDER BY next_try LIMIT $limit");
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$limit", limit);
            return ReadIds(cmd);
        }
    }

    /// <summary>Puts queued chunks off until <paramref name="nextTry"/>.</summary>
    public void DeferReplication(IEnumerable<ChunkId> chunks, DateTimeOffset nextTry) =>
        ForEachId(chunks, "UPDATE replication SET next_try = $v WHERE chunk = $chunk", nextTry.ToUnixTimeMilliseconds());

    /// <summary>Takes chunks off the queue: their owners hold them.</summary>
    public void CompleteReplication(IEnumerable<ChunkId> chunks) =>
        ForEachId(chunks, "DELETE FROM replication WHERE chunk = $chunk", 0);

    /// <summary>How many chunks (and bytes) still wait for copies.</summary>
    public (long Chunks, long Bytes) ReplicationBacklog()
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM replication");
            using SqliteDataReader reader = cmd.ExecuteReader();
            reader.Read();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    private void ForEachId(IEnumerable<ChunkId> chunks, string sql, long value)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = JoinOrBegin();
        SqliteCommand cmd = Command(sql);
        SqliteParameter chunk = cmd.Parameters.Add("$chunk", SqliteType.Blob);
        cmd.Parameters.AddWithValue("$v", value);
        foreach (ChunkId id in chunks)
        {
            chunk.Value = id.ToBytes();
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }
}
