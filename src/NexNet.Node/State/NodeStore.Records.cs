using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>Sealed records and anti-entropy cursors.</summary>
internal sealed partial class NodeStore
{
    public StoredRecord? GetRecord(ReadOnlySpan<byte> key)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT key, clock, origin, body, seq, sig FROM records WHERE key = $key");
            cmd.Parameters.AddWithValue("$key", key.ToArray());
            return ReadRecords(cmd).FirstOrDefault();
        }
    }

    /// <summary>
    /// Stores (or replaces) the record under its key with the next local sequence number, which it returns.
    /// The version it replaces becomes history, with its chunk references (<see cref="KeepReplacedVersion"/>),
    /// unless <paramref name="keepReplaced"/> is false.
    /// </summary>
    public long PutRecord(byte[] key, long clock, byte[] origin, byte[] body, byte[]? signature, bool keepReplaced = true)
    {
        using MetaTransaction tx = _db.JoinOrBegin();
        lock (_db.Lock)
        {
            if (keepReplaced)
            {
                KeepReplacedVersion(key, clock, origin);
            }

            SqliteCommand cmd = _db.Command($"""
                INSERT INTO records (key, clock, origin, body, seq, sig)
                VALUES ($key, $clock, $origin, $body, {NextSeq}, $sig)
                ON CONFLICT (key) DO UPDATE SET clock = excluded.clock, origin = excluded.origin, body = excluded.body, seq = excluded.seq, sig = excluded.sig
                RETURNING seq
                """);
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$clock", clock);
            cmd.Parameters.AddWithValue("$origin", origin);
            cmd.Parameters.AddWithValue("$body", body);
            cmd.Parameters.AddWithValue("$sig", (object?)signature ?? DBNull.Value);
            long seq = (long)cmd.ExecuteScalar()!;
            tx.Commit();
            return seq;
        }
    }

    /// <summary>Records stored without a signature (before node schema 5), up to <paramref name="limit"/>.</summary>
    public IReadOnlyList<StoredRecord> UnsignedRecords(int limit)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT key, clock, origin, body, seq, sig FROM records WHERE sig IS NULL LIMIT $limit");
            cmd.Parameters.AddWithValue("$limit", limit);
            return [.. ReadRecords(cmd)];
        }
    }

    /// <summary>
    /// Adds a signature to a stored record, if it still holds that version, under the next sequence number,
    /// so peers that read it unsigned read it again and storage peers can take the signature.
    /// </summary>
    public void SetRecordSignature(byte[] key, long clock, byte[] origin, byte[] signature)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command($"""
                UPDATE records SET sig = $sig, seq = {NextSeq}
                WHERE key = $key AND clock = $clock AND origin = $origin
                """);
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$clock", clock);
            cmd.Parameters.AddWithValue("$origin", origin);
            cmd.Parameters.AddWithValue("$sig", signature);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Records and kept versions stored after local sequence <paramref name="seq"/>, in sequence order, up
    /// to a count and (roughly) a byte budget: what a peer catching up reads, history included.
    /// </summary>
    public IReadOnlyList<StoredRecord> RecordsAfter(long seq, int maxCount, long maxBytes)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                SELECT key, clock, origin, body, seq, sig FROM records WHERE seq > $seq
                UNION ALL SELECT key, clock, origin, body, seq, sig FROM versions WHERE seq > $seq
                ORDER BY seq LIMIT $limit
                """);
            cmd.Parameters.AddWithValue("$seq", seq);
            cmd.Parameters.AddWithValue("$limit", maxCount);
            var records = new List<StoredRecord>();
            long bytes = 0;
            foreach (StoredRecord record in ReadRecords(cmd))
            {
                bytes += record.Body.Length + record.Key.Length + record.Origin.Length + (record.Signature?.Length ?? 0) + 16;
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
    public long LastRecordSeq() => _db.Scalar<long>($"SELECT {NextSeq} - 1");

    /// <summary>
    /// The next number of the one sequence records and kept versions share (a version keeps the number it
    /// had while current, or gets a new one when it arrives as history), so anti-entropy hands on both in order.
    /// </summary>
    private const string NextSeq = "(MAX((SELECT COALESCE(MAX(seq), 0) FROM records), (SELECT COALESCE(MAX(seq), 0) FROM versions)) + 1)";

    public long RecordCount() => _db.Scalar<long>("SELECT COUNT(*) FROM records");

    /// <summary>How far this node has read <paramref name="nodeId"/>'s record sequence (0: not at all).</summary>
    public long SyncCursor(NodeId nodeId)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT seq FROM sync_cursors WHERE node_id = $id");
            cmd.Parameters.AddWithValue("$id", nodeId.ToBytes());
            return cmd.ExecuteScalar() is long seq ? seq : 0;
        }
    }

    public void SetSyncCursor(NodeId nodeId, long seq)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                INSERT INTO sync_cursors (node_id, seq) VALUES ($id, $seq)
                ON CONFLICT (node_id) DO UPDATE SET seq = excluded.seq
                """);
            cmd.Parameters.AddWithValue("$id", nodeId.ToBytes());
            cmd.Parameters.AddWithValue("$seq", seq);
            cmd.ExecuteNonQuery();
        }
    }

    private static IEnumerable<StoredRecord> ReadRecords(SqliteCommand cmd)
    {
        using SqliteDataReader reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            yield return new StoredRecord((byte[])reader.GetValue(0), reader.GetInt64(1), (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : (byte[])reader.GetValue(5));
        }
    }
}
