using Microsoft.Data.Sqlite;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>
/// The node's metadata in one SQLite file (WAL mode, synchronous=FULL so a committed transaction survives
/// a power cut). The schema version lives in <c>PRAGMA user_version</c>; migrations run in order, each in
/// its own transaction, and a database from a newer build is refused rather than guessed at.
/// </summary>
/// <remarks>One connection guarded by a lock: metadata operations are small, and SQLite serialises writers anyway.</remarks>
public sealed partial class MetaStore : IDisposable
{
    /// <summary>Each entry moves the schema one version up. Append only; never edit a shipped migration.</summary>
    private static readonly string[] s_migrations =
    [
        // 1: the blob index.
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

        // 2: peers this node has been connected to, so it can find the network again after a restart.
        """
        CREATE TABLE peers (
            node_id   BLOB    NOT NULL PRIMARY KEY,
            address   TEXT    NOT NULL,
            last_seen INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,

        // 3: the tree and replication. records: every sealed entry record this node keeps (members and
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

        // 4: entries clustered by directory (primary key parent, path), so listing a directory reads its
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

        // 5: replicas peers pushed here whose ids are not yet checked against their contents (a member
        // checks them before it first uses one, and when idle); see ReplicaVerifier.
        """
        CREATE TABLE unverified (
            id BLOB NOT NULL PRIMARY KEY
        ) WITHOUT ROWID;
        """,

        // 6: each record's signature by the volume signing key (docs/formats.md, "Signed records"), so
        // storage peers keep and relay only what members wrote. NULL for records stored before: a member
        // signs them when it next starts (Tree.SignUnsigned); a storage peer cannot, and sends them unsigned.
        """
        ALTER TABLE records ADD COLUMN sig BLOB;
        """,
    ];

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;
    private bool _transactionRelaxed;

    [ThreadStatic]
    private static int s_relaxedDepth;
    private bool _disposed;

    private MetaStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => s_migrations.Length;

    public int SchemaVersion => (int)Scalar<long>("PRAGMA user_version");

    public static MetaStore Open(string path) => Open(path, s_migrations.Length);

    /// <summary>Opens, migrating only up to <paramref name="schemaVersion"/> (tests of later migrations start from an older schema).</summary>
    internal static MetaStore Open(string path, int schemaVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            // An 8 MiB page cache (default 2 MB): the mount's commits touch index pages all over the tables.
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; " +
                "PRAGMA cache_size = -8192;");
            var store = new MetaStore(connection, full);
            store.Migrate(schemaVersion);
            return store;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new MetaStoreException($"metadata database {full} cannot be opened: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Migrate(int target)
    {
        int version = SchemaVersion;
        if (version > s_migrations.Length)
        {
            throw new MetaStoreException(
                $"metadata database {Path} has schema version {version}, newer than this build's {s_migrations.Length}; use a newer nexnet");
        }

        for (int v = version; v < target; v++)
        {
            using SqliteTransaction tx = _connection.BeginTransaction();
            Execute(_connection, s_migrations[v], tx);
            Execute(_connection, $"PRAGMA user_version = {v + 1}", tx);
            tx.Commit();
        }
    }

    /// <summary>Adds blobs to the index (existing entries are kept as they are), in one transaction.</summary>
    public void RecordBlobs(IEnumerable<(ChunkId Id, long Size)> blobs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        using MetaTransaction tx = JoinOrBegin();
        {
            SqliteCommand cmd = Command("INSERT INTO blobs (id, size, last_access) VALUES ($id, $size, $now) ON CONFLICT (id) DO NOTHING");
            SqliteParameter id = cmd.Parameters.Add("$id", SqliteType.Blob);
            SqliteParameter size = cmd.Parameters.Add("$size", SqliteType.Integer);
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            foreach ((ChunkId blobId, long blobSize) in blobs)
            {
                id.Value = blobId.ToBytes();
                size.Value = blobSize;
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    public BlobInfo? GetBlob(ChunkId id)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT size, (SELECT COUNT(*) FROM chunk_refs WHERE chunk_refs.chunk = blobs.id), pinned, last_access FROM blobs WHERE id = $id");
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            using SqliteDataReader reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return new BlobInfo(id, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2) != 0,
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
        }
    }

    public bool SetPinned(ChunkId id, bool pinned) =>
        Update("UPDATE blobs SET pinned = $v WHERE id = $id", id, pinned ? 1 : 0);

    public bool Touch(ChunkId id, DateTimeOffset when) =>
        Update("UPDATE blobs SET last_access = MAX(last_access, $v) WHERE id = $id", id, when.ToUnixTimeMilliseconds());

    /// <summary>Marks blobs as used now (those not indexed are skipped).</summary>
    public void TouchAll(IEnumerable<ChunkId> ids, DateTimeOffset when) =>
        ForEachId(ids, "UPDATE blobs SET last_access = MAX(last_access, $v) WHERE id = $chunk", when.ToUnixTimeMilliseconds());

    public bool RemoveBlob(ChunkId id)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("DELETE FROM blobs WHERE id = $id");
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            bool removed = cmd.ExecuteNonQuery() > 0;
            RemoveUnverified(id);
            return removed;
        }
    }

    /// <summary>Number of indexed blobs and their total size.</summary>
    public (long Count, long Bytes) BlobTotals()
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs");
            using SqliteDataReader reader = cmd.ExecuteReader();
            reader.Read();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    /// <summary>
    /// Blobs no entry references (see <see cref="SetChunkRefs"/>) and nobody pinned, untouched since
    /// <paramref name="accessedBefore"/>: candidates for collection, oldest first.
    /// </summary>
    public IReadOnlyList<ChunkId> UnreferencedBlobs(DateTimeOffset accessedBefore, int limit)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("""
                SELECT id FROM blobs WHERE pinned = 0 AND last_access < $before
                AND NOT EXISTS (SELECT 1 FROM chunk_refs WHERE chunk_refs.chunk = blobs.id)
                ORDER BY last_access LIMIT $limit
                """);
            cmd.Parameters.AddWithValue("$before", accessedBefore.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$limit", limit);
            return ReadIds(cmd);
        }
    }

    private static List<ChunkId> ReadIds(SqliteCommand cmd)
    {
        using SqliteDataReader reader = cmd.ExecuteReader();
        var ids = new List<ChunkId>();
        while (reader.Read())
        {
            ids.Add(ChunkId.FromBytes((byte[])reader.GetValue(0)));
        }

        return ids;
    }

    /// <summary>Remembers (or refreshes) where a peer listens. Node ids are opaque bytes to the store.</summary>
    public void RememberPeer(ReadOnlySpan<byte> nodeId, string address, DateTimeOffset seen)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("""
                INSERT INTO peers (node_id, address, last_seen) VALUES ($id, $address, $seen)
                ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, last_seen = MAX(last_seen, excluded.last_seen)
                """);
            cmd.Parameters.AddWithValue("$id", nodeId.ToArray());
            cmd.Parameters.AddWithValue("$address", address);
            cmd.Parameters.AddWithValue("$seen", seen.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Known peers, most recently seen first.</summary>
    public IReadOnlyList<(byte[] NodeId, string Address, DateTimeOffset LastSeen)> KnownPeers(int limit = 1000)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT node_id, address, last_seen FROM peers ORDER BY last_seen DESC LIMIT $limit");
            cmd.Parameters.AddWithValue("$limit", limit);
            using SqliteDataReader reader = cmd.ExecuteReader();
            var peers = new List<(byte[], string, DateTimeOffset)>();
            while (reader.Read())
            {
                peers.Add(((byte[])reader.GetValue(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
            }

            return peers;
        }
    }

    /// <summary>
    /// Starts a transaction that every call on this store joins until it is committed or disposed. It holds
    /// the store's lock, so it must be committed on the thread that began it, with no await in between.
    /// </summary>
    public MetaTransaction BeginTransaction()
    {
        _lock.Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_transaction is not null)
            {
                throw new InvalidOperationException("a metadata transaction is already open on this thread");
            }

            _transactionRelaxed = s_relaxedDepth > 0;
            if (_transactionRelaxed)
            {
                Command("PRAGMA synchronous = NORMAL").ExecuteNonQuery();
            }

            _transaction = _connection.BeginTransaction();
            return new MetaTransaction(this);
        }
        catch
        {
            _lock.Exit();
            throw;
        }
    }

    /// <summary>The open transaction on this thread (a no-op scope), or a new one.</summary>
    private MetaTransaction JoinOrBegin()
    {
        _lock.Enter();
        try
        {
            return _transaction is not null ? MetaTransaction.Nested : BeginTransaction();
        }
        finally
        {
            _lock.Exit();
        }
    }

    /// <summary>Commits or rolls back the open transaction. The store's lock stays held: <see cref="ReleaseTransactionLock"/> gives it back.</summary>
    internal void EndTransaction(bool commit)
    {
        try
        {
            if (commit)
            {
                _transaction!.Commit();
            }
            else
            {
                _transaction!.Rollback();
            }
        }
        finally
        {
            _transaction!.Dispose();
            _transaction = null;
            if (_transactionRelaxed)
            {
                _transactionRelaxed = false;
                Command("PRAGMA synchronous = FULL").ExecuteNonQuery();
            }
        }
    }

    /// <summary>
    /// Until the scope ends, transactions this thread begins are committed without waiting for the disk
    /// (SQLite's synchronous=NORMAL in WAL mode): they survive a killed process but not a power cut
    /// until <see cref="Flush"/> or any later durable commit. For edits a file system need not make
    /// durable before fsync.
    /// </summary>
    public static RelaxedDurabilityScope RelaxedDurability()
    {
        s_relaxedDepth++;
        return new RelaxedDurabilityScope();
    }

    /// <summary>Ends a <see cref="RelaxedDurability"/> scope.</summary>
    public readonly struct RelaxedDurabilityScope : IDisposable
    {
        public void Dispose() => s_relaxedDepth--;
    }

    /// <summary>Makes every committed transaction durable (checkpointing the WAL flushes it first).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_transaction is null)
            {
                Command("PRAGMA wal_checkpoint(PASSIVE)").ExecuteNonQuery();
            }
        }
    }

    /// <summary>
    /// Gives back the lock a transaction took. Only when the transaction's scope ends, not at its commit:
    /// commands made inside the scope are disposed after the commit, and disposing a command changes the
    /// connection's state, so it must not race another thread's use of the connection.
    /// </summary>
    internal void ReleaseTransactionLock() => _lock.Exit();

    /// <summary>A PRAGMA's current value (tests).</summary>
    internal long Pragma(string name) => Scalar<long>($"PRAGMA {name}");

    /// <summary>True while this thread holds the store's lock (tests of the transaction scope).</summary>
    internal bool IsLockedByCurrentThread => _lock.IsHeldByCurrentThread;

    /// <summary>
    /// The command for <paramref name="sql"/>, prepared once and kept: parsing and planning a statement
    /// cost more than running it, and the mount runs the same few statements for every file. Callers hold
    /// the lock, set parameters, run it, and do not dispose it. Every statement text here is a constant.
    /// </summary>
    private SqliteCommand Command(string sql)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_statements.TryGetValue(sql, out SqliteCommand? cmd))
        {
            cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            _statements.Add(sql, cmd);
        }

        cmd.Parameters.Clear();
        cmd.Transaction = _transaction;
        return cmd;
    }

    private bool Update(string sql, ChunkId id, long value)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command(sql);
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            cmd.Parameters.AddWithValue("$v", value);
            return cmd.ExecuteNonQuery() > 0;
        }
    }

    private T Scalar<T>(string sql)
    {
        lock (_lock)
        {
            return (T)Command(sql).ExecuteScalar()!;
        }
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using SqliteCommand cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Closes the database. Waits for a call in progress; calls after it throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (SqliteCommand cmd in _statements.Values)
            {
                cmd.Dispose();
            }

            _statements.Clear();
            _connection.Dispose();
        }
    }
}
