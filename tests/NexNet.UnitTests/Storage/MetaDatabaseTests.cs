using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using NexNet.Crypto;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Storage;

/// <summary>The metadata database (connection, transactions, durability, schema owners) and Storage's blob index in it.</summary>
public sealed class MetaDatabaseTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private MetaDatabase Open() => MetaDatabase.Open(_dir.Combine("meta.db"));

    [Fact]
    public void A_new_database_is_in_WAL_mode_with_the_blob_index_at_its_current_schema()
    {
        using MetaDatabase db = Open();
        BlobIndex.Open(db);
        Assert.Equal(BlobIndex.CurrentSchemaVersion, db.SchemaVersion(BlobIndex.SchemaOwner));
        Assert.Equal(0, db.SchemaVersion("someone else"));
        Assert.Equal(MetaDatabase.OwnedSchemasMarker, db.Pragma("user_version"));
        Assert.Equal("wal", Sql(_dir.Combine("meta.db"), "PRAGMA journal_mode"));
    }

    [Fact]
    public void A_relaxed_transaction_commits_without_sync_and_the_database_returns_to_full_sync_after()
    {
        using MetaDatabase db = Open();
        BlobIndex index = BlobIndex.Open(db);
        using (MetaTransaction tx = db.BeginTransaction(Durability.Relaxed))
        {
            Assert.Equal(1L, db.Pragma("synchronous")); // NORMAL: the commit does not wait for fsync
            index.RecordBlobs([(ChunkId.FromBytes(new byte[32]), 10)], DateTimeOffset.UtcNow);
            tx.Commit();
        }

        Assert.Equal(2L, db.Pragma("synchronous")); // FULL again for everyone else
        using (MetaTransaction tx = db.BeginTransaction())
        {
            Assert.Equal(2L, db.Pragma("synchronous")); // a transaction that does not ask commits with fsync
            tx.Commit();
        }

        // A statement that joins an open transaction takes that transaction's durability, not its own.
        using (MetaTransaction tx = db.BeginTransaction())
        {
            index.RecordBlobs([(RandomIds.Chunk(), 1)], DateTimeOffset.UtcNow, Durability.Relaxed);
            Assert.Equal(2L, db.Pragma("synchronous"));
            tx.Commit();
        }

        index.RecordBlobs([(RandomIds.Chunk(), 1)], DateTimeOffset.UtcNow, Durability.Relaxed);
        Assert.Equal(2L, db.Pragma("synchronous"));
        db.Flush();
        Assert.NotNull(index.GetBlob(ChunkId.FromBytes(new byte[32])));
    }

    [Fact]
    public void The_blob_index_survives_reopening()
    {
        ChunkId a = RandomIds.Chunk();
        ChunkId b = RandomIds.Chunk();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        using (MetaDatabase db = Open())
        {
            BlobIndex index = BlobIndex.Open(db);
            index.RecordBlobs([(a, 100), (b, 200)], now);
            index.RecordBlobs([(a, 999)], now.AddDays(1)); // already known: kept as it was
            Assert.True(index.SetPinned(b, true));
        }

        using (MetaDatabase db = Open())
        {
            BlobIndex index = BlobIndex.Open(db);
            Assert.Equal(new BlobInfo(a, 100, false, now), index.GetBlob(a));
            Assert.Equal(new BlobInfo(b, 200, true, now), index.GetBlob(b));
            Assert.Equal((2, 300), index.BlobTotals());
            Assert.Null(index.GetBlob(RandomIds.Chunk()));
            Assert.True(index.RemoveBlob(a));
            Assert.False(index.RemoveBlob(a));
            Assert.Equal((1, 200), index.BlobTotals());
        }
    }

    [Fact]
    public void A_committed_transaction_keeps_the_database_locked_until_its_scope_ends()
    {
        // Commands made in a transaction's scope are disposed after its commit; disposing one changes the
        // shared connection, so it must still happen under the lock (a race here once killed the
        // replicator with an IndexOutOfRange inside Microsoft.Data.Sqlite).
        using MetaDatabase db = Open();
        BlobIndex index = BlobIndex.Open(db);
        using (MetaTransaction tx = db.BeginTransaction())
        {
            index.RecordBlobs([(RandomIds.Chunk(), 10L)], DateTimeOffset.UtcNow);
            tx.Commit();
            Assert.True(db.IsLockedByCurrentThread);
        }

        Assert.False(db.IsLockedByCurrentThread);
        index.TouchAll([RandomIds.Chunk()], DateTimeOffset.UtcNow); // a transaction of its own, committed inside its scope
        Assert.False(db.IsLockedByCurrentThread);
        Assert.Equal(1, index.BlobTotals().Count);
    }

    [Fact]
    public void A_command_outside_the_lock_is_refused()
    {
        using MetaDatabase db = Open();
        Assert.Throws<InvalidOperationException>(() => db.Command("SELECT 1"));
    }

    [Fact]
    public void An_owners_tables_from_a_newer_build_are_refused_clearly()
    {
        using (MetaDatabase db = Open())
        {
            db.ApplySchema("later", ["CREATE TABLE a (x);", "CREATE TABLE b (x);"], 2);
            Assert.Equal(2, db.SchemaVersion("later"));
        }

        using (MetaDatabase db = Open())
        {
            MetaDatabaseException e = Assert.Throws<MetaDatabaseException>(() => db.ApplySchema("later", ["CREATE TABLE a (x);"], 1));
            Assert.Contains("later schema version 2", e.Message, StringComparison.Ordinal);
            Assert.Contains("newer", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_migration_that_fails_says_which_step_and_keeps_nothing_of_it()
    {
        using MetaDatabase db = Open();
        MetaDatabaseException e = Assert.Throws<MetaDatabaseException>(() => db.ApplySchema("broken", ["CREATE TABLE fine (x);", "CREATE TABLE kept (x); CREATE TABLE (;"], 2));
        Assert.Contains("broken tables to version 2", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, db.SchemaVersion("broken")); // the first step stands, the second left no table behind
        Assert.Null(Sql(_dir.Combine("meta.db"), "SELECT name FROM sqlite_master WHERE name = 'kept'"));
    }

    [Fact]
    public void A_database_with_an_unknown_shared_version_is_refused_clearly()
    {
        string path = _dir.Combine("meta.db");
        Sql(path, "PRAGMA user_version = 99");
        MetaDatabaseException e = Assert.Throws<MetaDatabaseException>(() => MetaDatabase.Open(path));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
        Assert.Contains("newer nexnet", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_clearly()
    {
        string path = _dir.Combine("meta.db");
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(8192));
        MetaDatabaseException e = Assert.Throws<MetaDatabaseException>(() => MetaDatabase.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs one statement on its own connection (as another program would) and returns its value.</summary>
    internal static object? Sql(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using SqliteCommand cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}
