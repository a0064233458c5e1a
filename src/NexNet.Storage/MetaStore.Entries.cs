using Microsoft.Data.Sqlite;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>A member's opened entries (paths) and the chunks each live file uses.</summary>
public sealed partial class MetaStore
{
    private const string EntryColumns = "path, parent, deleted, clock, origin, body";

    public EntryRow? GetEntry(string path)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command($"SELECT {EntryColumns} FROM entries WHERE path = $path");
            cmd.Parameters.AddWithValue("$path", path);
            return ReadEntries(cmd).FirstOrDefault();
        }
    }

    public void PutEntry(EntryRow entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_lock)
        {
            SqliteCommand cmd = Command($"""
                INSERT INTO entries ({EntryColumns}) VALUES ($path, $parent, $deleted, $clock, $origin, $body)
                ON CONFLICT (path) DO UPDATE SET parent = excluded.parent, deleted = excluded.deleted,
                    clock = excluded.clock, origin = excluded.origin, body = excluded.body
                """);
            cmd.Parameters.AddWithValue("$path", entry.Path);
            cmd.Parameters.AddWithValue("$parent", entry.Parent);
            cmd.Parameters.AddWithValue("$deleted", entry.Deleted ? 1 : 0);
            cmd.Parameters.AddWithValue("$clock", entry.Clock);
            cmd.Parameters.AddWithValue("$origin", entry.Origin);
            cmd.Parameters.AddWithValue("$body", entry.Body);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Live (not deleted) entries directly under <paramref name="parent"/>, by path.</summary>
    public IReadOnlyList<EntryRow> ListChildren(string parent)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command($"SELECT {EntryColumns} FROM entries WHERE parent = $parent AND deleted = 0 ORDER BY path");
            cmd.Parameters.AddWithValue("$parent", parent);
            return [.. ReadEntries(cmd)];
        }
    }

    /// <summary>True when some live entry sits directly under <paramref name="parent"/>.</summary>
    public bool HasChildren(string parent)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT EXISTS (SELECT 1 FROM entries WHERE parent = $parent AND deleted = 0)");
            cmd.Parameters.AddWithValue("$parent", parent);
            return (long)cmd.ExecuteScalar()! != 0;
        }
    }

    public long LiveEntryCount() => Scalar<long>("SELECT COUNT(*) FROM entries WHERE deleted = 0");

    /// <summary>
    /// Makes <paramref name="chunks"/> the chunks <paramref name="path"/> uses (none for a tombstone) and
    /// returns the chunks it used before and no longer does.
    /// </summary>
    public IReadOnlyList<ChunkId> SetChunkRefs(string path, IEnumerable<ChunkId> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = JoinOrBegin();
        var keep = chunks.ToHashSet();
        SqliteCommand select = Command("SELECT chunk FROM chunk_refs WHERE path = $path");
        select.Parameters.AddWithValue("$path", path);
        List<ChunkId> before = ReadIds(select);

        var dropped = new List<ChunkId>();
        SqliteCommand delete = Command("DELETE FROM chunk_refs WHERE path = $path AND chunk = $chunk");
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

        SqliteCommand insert = Command("INSERT OR IGNORE INTO chunk_refs (chunk, path) VALUES ($chunk, $path)");
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
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT EXISTS (SELECT 1 FROM chunk_refs WHERE chunk = $chunk)");
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
