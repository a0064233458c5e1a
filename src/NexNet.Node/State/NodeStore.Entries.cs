using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>A member's opened entries (paths) and the chunks each live file uses.</summary>
internal sealed partial class NodeStore
{
    /// <summary>An entry row with its sealed body, which is its record's (the path is the record key in hex).</summary>
    private const string EntrySelect = "SELECT e.path, e.parent, e.deleted, e.clock, e.origin, r.body FROM entries e JOIN records r ON r.key = unhex(e.path)";

    public EntryRow? GetEntry(string path)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command($"{EntrySelect} WHERE e.path = $path");
            cmd.Parameters.AddWithValue("$path", path);
            return ReadEntries(cmd).FirstOrDefault();
        }
    }

    /// <summary>Stores an entry's row; its body is not stored here but is the record stored under the same key (<see cref="PutRecord"/>).</summary>
    public void PutEntry(EntryRow entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                INSERT INTO entries (path, parent, deleted, clock, origin, summary) VALUES ($path, $parent, $deleted, $clock, $origin, $summary)
                ON CONFLICT (parent, path) DO UPDATE SET deleted = excluded.deleted,
                    clock = excluded.clock, origin = excluded.origin, summary = excluded.summary
                """);
            cmd.Parameters.AddWithValue("$path", entry.Path);
            cmd.Parameters.AddWithValue("$parent", entry.Parent);
            cmd.Parameters.AddWithValue("$deleted", entry.Deleted ? 1 : 0);
            cmd.Parameters.AddWithValue("$clock", entry.Clock);
            cmd.Parameters.AddWithValue("$origin", entry.Origin);
            cmd.Parameters.AddWithValue("$summary", (object?)entry.Summary ?? DBNull.Value);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Live (not deleted) entries directly under <paramref name="parent"/>, by path.</summary>
    public IReadOnlyList<EntryRow> ListChildren(string parent)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command($"{EntrySelect} WHERE e.parent = $parent AND e.deleted = 0 ORDER BY e.path");
            cmd.Parameters.AddWithValue("$parent", parent);
            return [.. ReadEntries(cmd)];
        }
    }

    /// <summary>
    /// Live entries directly under <paramref name="parent"/>, each with its summary when it has one (else
    /// its body, and IsSummary false), without reading the bodies otherwise: what a listing needs.
    /// </summary>
    public IReadOnlyList<(string Path, long Clock, byte[] Origin, byte[] Sealed, bool IsSummary)> ListChildSummaries(string parent)
    {
        lock (_db.Lock)
        {
            // COALESCE evaluates its second argument only for rows without a summary (from before node schema 3).
            SqliteCommand cmd = _db.Command("""
                SELECT path, clock, origin, COALESCE(summary, (SELECT body FROM records WHERE key = unhex(path))), summary IS NOT NULL
                FROM entries WHERE parent = $parent AND deleted = 0
                """);
            cmd.Parameters.AddWithValue("$parent", parent);
            using SqliteDataReader reader = cmd.ExecuteReader();
            var rows = new List<(string, long, byte[], byte[], bool)>();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetInt64(1), (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), reader.GetInt64(4) != 0));
            }

            return rows;
        }
    }

    /// <summary>True when some live entry sits directly under <paramref name="parent"/>.</summary>
    public bool HasChildren(string parent)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT EXISTS (SELECT 1 FROM entries WHERE parent = $parent AND deleted = 0)");
            cmd.Parameters.AddWithValue("$parent", parent);
            return (long)cmd.ExecuteScalar()! != 0;
        }
    }

    public long LiveEntryCount() => _db.Scalar<long>("SELECT COUNT(*) FROM entries WHERE deleted = 0");

    /// <summary>
    /// Makes <paramref name="chunks"/> the chunks <paramref name="path"/> uses (none for a tombstone) and
    /// returns the chunks it used before and no longer does.
    /// </summary>
    public IReadOnlyList<ChunkId> SetChunkRefs(string path, IEnumerable<ChunkId> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = _db.JoinOrBegin();
        var keep = chunks.ToHashSet();
        SqliteCommand select = _db.Command("SELECT chunk FROM chunk_refs WHERE path = $path");
        select.Parameters.AddWithValue("$path", path);
        List<ChunkId> before = MetaDatabase.ReadIds(select);

        var dropped = new List<ChunkId>();
        SqliteCommand delete = _db.Command("DELETE FROM chunk_refs WHERE path = $path AND chunk = $chunk");
        delete.Parameters.AddWithValue("$path", path);
        SqliteParameter deleted = delete.Parameters.Add("$chunk", SqliteType.Blob);
        foreach (ChunkId id in before)
        {
            if (!keep.Remove(id))
            {
                deleted.Value = id.ToBytes();
                delete.ExecuteNonQuery();
                dropped.Add(id);
            }
        }

        SqliteCommand insert = _db.Command("INSERT OR IGNORE INTO chunk_refs (chunk, path) VALUES ($chunk, $path)");
        insert.Parameters.AddWithValue("$path", path);
        SqliteParameter inserted = insert.Parameters.Add("$chunk", SqliteType.Blob);
        foreach (ChunkId id in keep)
        {
            inserted.Value = id.ToBytes();
            insert.ExecuteNonQuery();
        }

        tx.Commit();
        return dropped;
    }

    public bool IsReferenced(ChunkId id)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT EXISTS (SELECT 1 FROM chunk_refs WHERE chunk = $chunk)");
            cmd.Parameters.AddWithValue("$chunk", id.ToBytes());
            return (long)cmd.ExecuteScalar()! != 0;
        }
    }

    private static IEnumerable<EntryRow> ReadEntries(SqliteCommand cmd)
    {
        using SqliteDataReader reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            yield return new EntryRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0, reader.GetInt64(3),
                (byte[])reader.GetValue(4), (byte[])reader.GetValue(5));
        }
    }
}
