using Microsoft.Data.Sqlite;
using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>
/// The node's metadata file: one SQLite database (WAL mode, synchronous=FULL unless a transaction asks
/// for <see cref="Durability.Relaxed"/>) shared by the layers that keep tables in it, each owning its
/// tables and their migrations (<see cref="ApplySchema"/>): Storage the blob index (<see cref="BlobIndex"/>),
/// the node its records, entries and queues. One file, so a commit that touches both (a file's record
/// and its chunks' index rows) is one transaction.
/// </summary>
/// <remarks>
/// One connection guarded by a lock: metadata operations are small, and SQLite serialises writers anyway.
/// A table owner runs its statements through <see cref="Command"/> while it holds <see cref="Lock"/>.
/// </remarks>
public sealed class MetaDatabase : IDisposable
{
    /// <summary>
    /// <c>PRAGMA user_version</c> of a database whose owners keep their versions in <c>schema_versions</c>.
    /// Builds from before owners had versions of their own read 1 to 6 there and refuse anything higher, so
    /// they refuse this file ("newer than this build") instead of migrating it again.
    /// </summary>
    internal const int OwnedSchemasMarker = 100;

    /// <summary>The last version the single shared schema reached: blobs (1), peers (2), records (3..6).</summary>
    private const int LastSharedVersion = 6;

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;
    private bool _transactionRelaxed;
    private bool _disposed;

    private MetaDatabase(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Held while a statement runs or a transaction is open. Callers of <see cref="Command"/> hold it.</summary>
    public Lock Lock => _lock;

    public static MetaDatabase Open(string path)
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
            var database = new MetaDatabase(connection, full);
            database.AdoptSharedSchema();
            return database;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new MetaDatabaseException($"metadata database {full} cannot be opened: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Moves a database from the single shared schema (one <c>user_version</c> for every table) to one
    /// version per owner. Shared version 1 made the blob index; 2 to 6 are the node's first five.
    /// </summary>
    private void AdoptSharedSchema()
    {
        int version = (int)Scalar<long>("PRAGMA user_version");
        if (version is > LastSharedVersion and not OwnedSchemasMarker)
        {
            throw new MetaDatabaseException($"metadata database {Path} has schema version {version}, which this build does not know; use a newer nexnet");
        }

        if (version == OwnedSchemasMarker)
        {
            return;
        }

        using SqliteTransaction tx = _connection.BeginTransaction();
        Execute(_connection, "CREATE TABLE schema_versions (owner TEXT NOT NULL PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;", tx);
        if (version >= 1)
        {
            Execute(_connection, $"INSERT INTO schema_versions VALUES ('{BlobIndex.SchemaOwner}', 1), ('node', {version - 1});", tx);
        }

        Execute(_connection, $"PRAGMA user_version = {OwnedSchemasMarker}", tx);
        tx.Commit();
    }

    /// <summary>The version of <paramref name="owner"/>'s tables (0: none yet).</summary>
    public int SchemaVersion(string owner)
    {
        lock (_lock)
        {
            SqliteCommand cmd = Command("SELECT version FROM schema_versions WHERE owner = $owner");
            cmd.Parameters.AddWithValue("$owner", owner);
            return cmd.ExecuteScalar() is long v ? (int)v : 0;
        }
    }

    /// <summary>
    /// Runs <paramref name="owner"/>'s migrations from its recorded version up to <paramref name="target"/>,
    /// each in its own transaction. Tables from a newer build are refused rather than guessed at. Each
    /// entry moves the owner's schema one version up: append only, never edit a shipped migration.
    /// </summary>
    public void ApplySchema(string owner, IReadOnlyList<string> migrations, int target)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(migrations);
        lock (_lock)
        {
            int version = SchemaVersion(owner);
            if (version > migrations.Count)
            {
                throw new MetaDatabaseException(
                    $"metadata database {Path} has {owner} schema version {version}, newer than this build's {migrations.Count}; use a newer nexnet");
            }

            for (int v = version; v < target; v++)
            {
                try
                {
                    using SqliteTransaction tx = _connection.BeginTransaction();
                    Execute(_connection, migrations[v], tx);
                    Execute(_connection, $"INSERT INTO schema_versions VALUES ('{owner}', {v + 1}) ON CONFLICT (owner) DO UPDATE SET version = excluded.version", tx);
                    tx.Commit();
                }
                catch (SqliteException e)
                {
                    throw new MetaDatabaseException($"metadata database {Path}: moving the {owner} tables to version {v + 1} failed (nothing of that step was kept): {e.Message}", e);
                }
            }
        }
    }

    /// <summary>
    /// Starts a transaction that every statement on this database joins until it is committed or
    /// disposed. It holds the lock, so it must be committed on the thread that began it, with no await in
    /// between. <see cref="Durability.Relaxed"/>: see there.
    /// </summary>
    public MetaTransaction BeginTransaction(Durability durability = Durability.Full)
    {
        _lock.Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_transaction is not null)
            {
                throw new InvalidOperationException("a metadata transaction is already open on this thread");
            }

            _transactionRelaxed = durability == Durability.Relaxed;
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

    /// <summary>The open transaction (a no-op scope, with that transaction's durability), or a new one.</summary>
    public MetaTransaction JoinOrBegin(Durability durability = Durability.Full)
    {
        _lock.Enter();
        try
        {
            return _transaction is not null ? MetaTransaction.Nested : BeginTransaction(durability);
        }
        finally
        {
            _lock.Exit();
        }
    }

    /// <summary>Commits or rolls back the open transaction. The lock stays held: <see cref="ReleaseTransactionLock"/> gives it back.</summary>
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
    /// Gives back the lock a transaction took. Only when the transaction's scope ends, not at its commit:
    /// commands made inside the scope are disposed after the commit, and disposing a command changes the
    /// connection's state, so it must not race another thread's use of the connection.
    /// </summary>
    internal void ReleaseTransactionLock() => _lock.Exit();

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

    /// <summary>A PRAGMA's current value (tests).</summary>
    internal long Pragma(string name) => Scalar<long>($"PRAGMA {name}");

    /// <summary>True while this thread holds the lock (tests of the transaction scope).</summary>
    internal bool IsLockedByCurrentThread => _lock.IsHeldByCurrentThread;

    /// <summary>
    /// The command for <paramref name="sql"/>, prepared once and kept: parsing and planning a statement
    /// cost more than running it, and the mount runs the same few statements for every file. Callers hold
    /// <see cref="Lock"/>, set parameters, run it, and do not dispose it. Every statement text is a constant.
    /// </summary>
    public SqliteCommand Command(string sql)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_lock.IsHeldByCurrentThread)
        {
            throw new InvalidOperationException("a metadata command runs only under the database's lock");
        }

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

    /// <summary>Runs a one-value query under the lock.</summary>
    public T Scalar<T>(string sql)
    {
        lock (_lock)
        {
            return (T)Command(sql).ExecuteScalar()!;
        }
    }

    /// <summary>Runs a query of one row and two integers (a count and a sum, say) under the lock.</summary>
    public (long, long) Pair(string sql)
    {
        lock (_lock)
        {
            using SqliteDataReader reader = Command(sql).ExecuteReader();
            reader.Read();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    /// <summary>Runs <paramref name="sql"/> once per chunk (bound as <c>$chunk</c>, with <c>$v</c> = <paramref name="value"/>), in one transaction.</summary>
    public void ForEachId(IEnumerable<ChunkId> chunks, string sql, long value, Durability durability = Durability.Full)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = JoinOrBegin(durability);
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

    /// <summary>Runs <paramref name="sql"/> once per chunk and size (bound as <c>$chunk</c> and <c>$size</c>, with <c>$now</c> in Unix milliseconds), in one transaction.</summary>
    public void ForEachSizedId(IEnumerable<(ChunkId Id, long Size)> chunks, string sql, DateTimeOffset now, Durability durability = Durability.Full)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = JoinOrBegin(durability);
        SqliteCommand cmd = Command(sql);
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

    /// <summary>The chunk ids in the first column of every row.</summary>
    public static List<ChunkId> ReadIds(SqliteCommand cmd)
    {
        ArgumentNullException.ThrowIfNull(cmd);
        using SqliteDataReader reader = cmd.ExecuteReader();
        var ids = new List<ChunkId>();
        while (reader.Read())
        {
            ids.Add(ChunkId.FromBytes((byte[])reader.GetValue(0)));
        }

        return ids;
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
