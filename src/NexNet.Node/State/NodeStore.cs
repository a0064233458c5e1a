using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>
/// The node's tables in the metadata database, and their migrations: the records it keeps (members and
/// storage peers alike) and how far it has read each peer's, a member's entries and chunk references,
/// the replication queue, replicas not yet checked, and the peers the network remembers. The blob index
/// beside them is Storage's (<see cref="BlobIndex"/>); the queries that join it to the node's tables
/// (what nothing references, what a cache may drop) live here, above it.
/// </summary>
internal sealed partial class NodeStore : IPeerBook, IDisposable
{
    /// <summary>This store's owner name in the database's schema versions.</summary>
    public const string SchemaOwner = "node";

    /// <summary>
    /// Each entry moves the node's schema one version up. Append only; never edit a shipped migration.
    /// Versions 1 to 5 were versions 2 to 6 of the schema the node and Storage once shared.
    /// </summary>
    private static readonly string[] s_migrations =
    [
        // 1: peers this node has been connected to, so it can find the network again after a restart.
        """
        CREATE TABLE peers (
            node_id   BLOB    NOT NULL PRIMARY KEY,
            address   TEXT    NOT NULL,
            last_seen INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,

        // 2: the tree and replication. records: every sealed entry record this node keeps (members and
        // storage peers alike), numbered by a local sequence for anti-entropy; sync_cursors: how far this
        // node has read each peer's sequence. entries, chunk_refs: a member's opened view of the records
        // (paths and the chunks live files use). replication: chunks that may still lack copies.
        """
        CREATE TABLE records (
            key    BLOB    NOT NULL PRIMARY KEY,
            clock  INTEGER NOT NULL,
            origin BLOB    NOT NULL,
            body   BLOB    NOT NULL,
            seq    INTEGER NOT NULL UNIQUE
        ) WITHOUT ROWID;
        CREATE TABLE sync_cursors (
            node_id BLOB    NOT NULL PRIMARY KEY,
            seq     INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE entries (
            path    TEXT    NOT NULL PRIMARY KEY,
            parent  TEXT    NOT NULL,
            deleted INTEGER NOT NULL,
            clock   INTEGER NOT NULL,
            origin  BLOB    NOT NULL,
            body    BLOB    NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX entries_by_parent ON entries (parent, path) WHERE deleted = 0;
        CREATE TABLE chunk_refs (
            chunk BLOB NOT NULL,
            path  TEXT NOT NULL,
            PRIMARY KEY (chunk, path)
        ) WITHOUT ROWID;
        CREATE INDEX chunk_refs_by_path ON chunk_refs (path);
        CREATE TABLE replication (
            chunk    BLOB    NOT NULL PRIMARY KEY,
            size     INTEGER NOT NULL,
            next_try INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX replication_due ON replication (next_try);
        """,

        // 3: entries clustered by directory (primary key parent, path), so listing a directory reads its
        // rows side by side instead of one random page per child: a cold `find` over 13,000 files read
        // thousands of scattered pages. A unique index on path keeps single lookups one search each.
        // The sealed body is no longer kept twice: it is the record's, found by key (the entry's path is
        // that key in hex). summary: a small sealed name-and-kind, so a listing neither reads nor decrypts
        // bodies (which hold small files' contents, up to 16 KiB each). Rows stay ~300 bytes.
        """
        CREATE TABLE entries_by_directory (
            parent  TEXT    NOT NULL,
            path    TEXT    NOT NULL,
            deleted INTEGER NOT NULL,
            clock   INTEGER NOT NULL,
            origin  BLOB    NOT NULL,
            summary BLOB,
            PRIMARY KEY (parent, path)
        ) WITHOUT ROWID;
        INSERT INTO entries_by_directory SELECT parent, path, deleted, clock, origin, NULL FROM entries;
        DROP TABLE entries;
        ALTER TABLE entries_by_directory RENAME TO entries;
        CREATE UNIQUE INDEX entries_by_path ON entries (path);
        """,

        // 4: replicas peers pushed here whose ids are not yet checked against their contents (a member
        // checks them before it first uses one, and when idle); see ReplicaVerifier.
        """
        CREATE TABLE unverified (
            id BLOB NOT NULL PRIMARY KEY
        ) WITHOUT ROWID;
        """,

        // 5: each record's signature by the volume signing key (docs/formats.md, "Signed records"), so
        // storage peers keep and relay only what members wrote. NULL for records stored before: a member
        // signs them when it next starts (Tree.SignUnsigned); a storage peer cannot, and sends them unsigned.
        """
        ALTER TABLE records ADD COLUMN sig BLOB;
        """,

        // 6: a blob that leaves Storage's index leaves the unchecked list with it (Storage removed that row
        // itself while it kept this table).
        """
        CREATE TRIGGER unverified_follows_blobs AFTER DELETE ON blobs
        BEGIN
            DELETE FROM unverified WHERE id = old.id;
        END;
        """,

        // 7: history. versions: every record a newer one replaced here, kept until retention passes
        // (HistoryRetention); until is the clock of the version that replaced it, so every node prunes by
        // the same rule. parent: the entry's directory in the entry index (a member's; NULL on a storage
        // peer, which cannot read it). seq: its place in this node's record sequence (the one it had while
        // current, or a new one when it arrived as history), so anti-entropy hands history on too. A
        // version's chunks stay referenced in chunk_refs under the version's tag (NodeStore.History), so
        // collection keeps them exactly as long as the version. A rowid table, unlike records: its rows
        // hold whole bodies (up to 16 KiB of a small file's contents), which a WITHOUT ROWID table would
        // move around on every insert in key order; here a version is appended, and the key is an index.
        """
        CREATE TABLE versions (
            key    BLOB    NOT NULL,
            clock  INTEGER NOT NULL,
            origin BLOB    NOT NULL,
            body   BLOB    NOT NULL,
            sig    BLOB,
            until  INTEGER NOT NULL,
            parent TEXT,
            seq    INTEGER NOT NULL UNIQUE
        );
        CREATE UNIQUE INDEX versions_by_version ON versions (key, clock, origin);
        CREATE INDEX versions_by_until ON versions (until);
        CREATE INDEX versions_by_parent ON versions (parent, clock) WHERE parent IS NOT NULL;
        """,

        // 8: on a storage peer, chunks a signed collect notice named, deleted only once the history
        // retention has passed (DeferredCollection): no single notice removes what history may still need.
        """
        CREATE TABLE collect_after (
            id    BLOB    NOT NULL PRIMARY KEY,
            after INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX collect_after_due ON collect_after (after);
        CREATE TRIGGER collect_after_follows_blobs AFTER DELETE ON blobs
        BEGIN
            DELETE FROM collect_after WHERE id = old.id;
        END;
        """,
    ];

    private readonly MetaDatabase _db;

    private NodeStore(BlobIndex blobs)
    {
        Blobs = blobs;
        _db = blobs.Database;
    }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => s_migrations.Length;

    public MetaDatabase Database => _db;

    /// <summary>Storage's blob index, in the same database (one transaction covers both).</summary>
    public BlobIndex Blobs { get; }

    /// <summary>The node's tables beside <paramref name="blobs"/>, created or migrated first (they build on the blob index).</summary>
    public static NodeStore Open(BlobIndex blobs) => Open(blobs, s_migrations.Length);

    /// <summary>Opens, migrating only up to <paramref name="schemaVersion"/> (tests of later migrations start from an older schema).</summary>
    internal static NodeStore Open(BlobIndex blobs, int schemaVersion)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        blobs.Database.ApplySchema(SchemaOwner, s_migrations, schemaVersion);
        return new NodeStore(blobs);
    }

    /// <summary>Opens the metadata database at <paramref name="path"/> with the blob index and the node's tables.</summary>
    public static NodeStore OpenFile(string path)
    {
        MetaDatabase db = MetaDatabase.Open(path);
        try
        {
            return Open(BlobIndex.Open(db));
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <inheritdoc cref="MetaDatabase.BeginTransaction"/>
    public MetaTransaction BeginTransaction(Durability durability = Durability.Full) => _db.BeginTransaction(durability);

    /// <inheritdoc cref="MetaDatabase.Flush"/>
    public void Flush() => _db.Flush();

    /// <summary>
    /// Blobs no entry references (see <see cref="SetChunkRefs"/>) and nobody pinned, untouched since
    /// <paramref name="accessedBefore"/>: candidates for collection, oldest first.
    /// </summary>
    public IReadOnlyList<ChunkId> UnreferencedBlobs(DateTimeOffset accessedBefore, int limit)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                SELECT id FROM blobs WHERE pinned = 0 AND last_access < $before
                AND NOT EXISTS (SELECT 1 FROM chunk_refs WHERE chunk_refs.chunk = blobs.id)
                ORDER BY last_access LIMIT $limit
                """);
            cmd.Parameters.AddWithValue("$before", accessedBefore.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$limit", limit);
            return MetaDatabase.ReadIds(cmd);
        }
    }

    /// <inheritdoc/>
    public void Remember(NodeId id, string address, DateTimeOffset seen)
    {
        try
        {
            lock (_db.Lock)
            {
                SqliteCommand cmd = _db.Command("""
                    INSERT INTO peers (node_id, address, last_seen) VALUES ($id, $address, $seen)
                    ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, last_seen = MAX(last_seen, excluded.last_seen)
                    """);
                cmd.Parameters.AddWithValue("$id", id.ToBytes());
                cmd.Parameters.AddWithValue("$address", address);
                cmd.Parameters.AddWithValue("$seen", seen.ToUnixTimeMilliseconds());
                cmd.ExecuteNonQuery();
            }
        }
        catch (SqliteException)
        {
            // Remembering peers is a convenience for the next start (a full disk, say, loses one refresh).
        }
        catch (ObjectDisposedException)
        {
            // A connection that comes up while the node shuts down.
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<KnownPeer> Known(int limit)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT node_id, address, last_seen FROM peers ORDER BY last_seen DESC LIMIT $limit");
            cmd.Parameters.AddWithValue("$limit", limit);
            using SqliteDataReader reader = cmd.ExecuteReader();
            var peers = new List<KnownPeer>();
            while (reader.Read())
            {
                if (NodeId.TryFromBytes((byte[])reader.GetValue(0), out NodeId id))
                {
                    peers.Add(new KnownPeer(id, reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
                }
            }

            return peers;
        }
    }

    /// <summary>Closes the database.</summary>
    public void Dispose() => _db.Dispose();
}
