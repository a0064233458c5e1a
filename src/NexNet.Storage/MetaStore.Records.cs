using Microsoft.Data.Sqlite;

namespace NexNet.Storage;

/// <summary>Sealed records and anti-entropy cursors.</summary>
public sealed partial class MetaStore
{
    public StoredRecord? GetRecord(ReadOnlySpan<byte> key)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT key, clock, origin, body, seq FROM records WHERE key = $key");
            cmd.Parameters.AddWithValue("$key", key.ToArray());
            return ReadRecords(cmd).FirstOrDefault();
        }
    }

    /// <summary>Stores (or replaces) the record under its key with the next local sequence number, which it returns.</summary>
    public long PutRecord(byte[] key, long clock, byte[] origin, byte[] body)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("""
                INSERT INTO records (key, clock, origin, body, seq)
                VALUES ($key, $clock, $origin, $body, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records))
                ON CONFLICT (key) DO UPDATE SET clock = excluded.clock, origin = excluded.origin, body = excluded.body, seq = excluded.seq
                RETURNING seq
                """);
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$clock", clock);
            cmd.Parameters.AddWithValue("$origin", origin);
            cmd.Parameters.AddWithValue("$body", body);
            return (long)cmd.ExecuteScalar()!;
        }
    }

    /// <summary>Records stored after local sequence <paramref name="seq"/>, in sequence order, up to a count and (roughly) a byte budget.</summary>
    public IReadOnlyList<StoredRecord> RecordsAfter(long seq, int maxCount, long maxBytes)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT key, clock, origin, body, seq FROM records WHERE seq > $seq ORDER BY seq LIMIT $limit");
            cmd.Parameters.AddWithValue("$seq", seq);
            cmd.Parameters.AddWithValue("$limit", maxCount);
            var records = new List<StoredRecord>();
            long bytes = 0;
            foreach (StoredRecord record in ReadRecords(cmd))
            {
                bytes += record.Body.Length + record.Key.Length + record.Origin.Length + 16;
                if (records.Count > 0 && bytes > maxBytes)
                {
                    break;
                }

                records.Add(record);
            }

            return records;
        }
    }

    /// <summary>The highest local sequence number in use (0 when there are no records).</summary>
    public long LastRecordSeq() => Scalar<long>("SELECT COALESCE(MAX(seq), 0) FROM records");

    public long RecordCount() => Scalar<long>("SELECT COUNT(*) FROM records");

    /// <summary>How far this node has read <paramref name="nodeId"/>'s record sequence (0: not at all).</summary>
    public long SyncCursor(ReadOnlySpan<byte> nodeId)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT seq FROM sync_cursors WHERE node_id = $id");
            cmd.Parameters.AddWithValue("$id", nodeId.ToArray());
            return cmd.ExecuteScalar() is long seq ? seq : 0;
        }
    }

    public void SetSyncCursor(ReadOnlySpan<byte> nodeId, long seq)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("""
                INSERT INTO sync_cursors (node_id, seq) VALUES ($id, $seq)
                ON CONFLICT (node_id) DO UPDATE SET seq = excluded.seq
                """);
            cmd.Parameters.AddWithValue("$id", nodeId.ToArray());
            cmd.Parameters.AddWithValue("$seq", seq);
            cmd.ExecuteNonQuery();
        }
    }

    private static IEnumerable<StoredRecord> ReadRecords(SqliteCommand cmd)
    {
        using SqliteDataReader reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            yield return new StoredRecord((byte[])reader.GetValue(0), reader.GetInt64(1), (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), reader.GetInt64(4));
        }
    }
}
