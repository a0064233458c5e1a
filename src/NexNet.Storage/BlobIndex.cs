using Microsoft.Data.Sqlite;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>
/// Storage's table in the metadata database: every blob the store holds, with its size, whether it is
/// pinned and when it was last used, so totals, eviction and collection are index lookups instead of
/// directory walks. What references a blob is not Storage's to know: the layers above keep that.
/// </summary>
public sealed class BlobIndex
{
    /// <summary>This table's owner name in the database's schema versions.</summary>
    public const string SchemaOwner = "blobs";

    private static readonly string[] s_migrations =
    [
        // 1: the blob index. refcount is unused (references are the node's; the column stays for its partial index).
        """
        CREATE TABLE blobs (
            id          BLOB    NOT NULL PRIMARY KEY,
            size        INTEGER NOT NULL,
            refcount    INTEGER NOT NULL DEFAULT 0,
            pinned      INTEGER NOT NULL DEFAULT 0,
            last_access INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX blobs_unreferenced ON blobs (last_access) WHERE refcount = 0 AND pinned = 0;
        """,
    ];

    private readonly MetaDatabase _db;

    private BlobIndex(MetaDatabase db) => _db = db;

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => s_migrations.Length;

    public MetaDatabase Database => _db;

    /// <summary>The blob index in <paramref name="db"/>, its table created or migrated first.</summary>
    public static BlobIndex Open(MetaDatabase db)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.ApplySchema(SchemaOwner, s_migrations, s_migrations.Length);
        return new BlobIndex(db);
    }

    /// <summary>Adds blobs to the index (existing entries are kept as they are), in one transaction.</summary>
    public void RecordBlobs(IEnumerable<(ChunkId Id, long Size)> blobs, DateTimeOffset now, Durability durability = Durability.Full) =>
        _db.ForEachSizedId(blobs, "INSERT INTO blobs (id, size, last_access) VALUES ($chunk, $size, $now) ON CONFLICT (id) DO NOTHING", now, durability);

    public BlobInfo? GetBlob(ChunkId id)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT size, pinned, last_access FROM blobs WHERE id = $id");
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            using SqliteDataReader reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return new BlobInfo(id, reader.GetInt64(0), reader.GetInt64(1) != 0, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)));
        }
    }

    public bool SetPinned(ChunkId id, bool pinned) =>
        Update("UPDATE blobs SET pinned = $v WHERE id = $id", id, pinned ? 1 : 0);

    public bool Touch(ChunkId id, DateTimeOffset when) =>
        Update("UPDATE blobs SET last_access = MAX(last_access, $v) WHERE id = $id", id, when.ToUnixTimeMilliseconds());

    /// <summary>Marks blobs as used now (those not indexed are skipped).</summary>
    public void TouchAll(IEnumerable<ChunkId> ids, DateTimeOffset when, Durability durability = Durability.Full) =>
        _db.ForEachId(ids, "UPDATE blobs SET last_access = MAX(last_access, $v) WHERE id = $chunk", when.ToUnixTimeMilliseconds(), durability);

    public bool RemoveBlob(ChunkId id)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("DELETE FROM blobs WHERE id = $id");
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            return cmd.ExecuteNonQuery() > 0;
        }
    }

    /// <summary>Number of indexed blobs and their total size.</summary>
    public (long Count, long Bytes) BlobTotals() => _db.Pair("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs");

    private bool Update(string sql, ChunkId id, long value)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command(sql);
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            cmd.Parameters.AddWithValue("$v", value);
            return cmd.ExecuteNonQuery() > 0;
        }
    }
}
