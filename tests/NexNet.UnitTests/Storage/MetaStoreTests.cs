using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using NexNet.Crypto;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Storage;

public sealed class MetaStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static ChunkId NewId() => ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_new_database_is_at_the_current_schema_in_WAL_mode()
    {
        using MetaStore meta = MetaStore.Open(_dir.Combine("meta.db"));
        Assert.Equal(MetaStore.CurrentSchemaVersion, meta.SchemaVersion);
        using var connection = new SqliteConnection($"Data Source={_dir.Combine("meta.db")};Pooling=false");
        connection.Open();
        using SqliteCommand cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", cmd.ExecuteScalar());
    }

    [Fact]
    public void Unchecked_replicas_are_listed_until_checked_or_removed_and_survive_a_reopen()
    {
        ChunkId a = NewId(), b = NewId(), c = NewId();
        using (MetaStore meta = MetaStore.Open(_dir.Combine("meta.db")))
        {
            meta.AddUnverified([a, b, c, a]);
            meta.RemoveUnverified(b);
            meta.RecordBlobs([(c, 10)], DateTimeOffset.UtcNow);
            meta.RemoveBlob(c); // a collected blob leaves the list too
        }

        using MetaStore reopened = MetaStore.Open(_dir.Combine("meta.db"));
        Assert.Equal([a], reopened.Unverified());
    }

    [Fact]
    public void A_relaxed_scope_commits_without_sync_and_the_store_returns_to_full_sync_after()
    {
        using MetaStore meta = MetaStore.Open(_dir.Combine("meta.db"));
        using (MetaStore.RelaxedDurability())
        {
            using MetaTransaction tx = meta.BeginTransaction();
            Assert.Equal(1L, meta.Pragma("synchronous")); // NORMAL: the commit does not wait for fsync
            meta.RecordBlobs([(ChunkId.FromBytes(new byte[32]), 10)], DateTimeOffset.UtcNow);
            tx.Commit();
        }

        Assert.Equal(2L, meta.Pragma("synchronous")); // FULL again for everyone else
        using (MetaTransaction tx = meta.BeginTransaction())
        {
            Assert.Equal(2L, meta.Pragma("synchronous")); // a transaction outside the scope commits with fsync
            tx.Commit();
        }

        meta.Flush();
        Assert.NotNull(meta.GetBlob(ChunkId.FromBytes(new byte[32])));
    }

    [Fact]
    public void The_blob_index_survives_reopening()
    {
        ChunkId a = NewId();
        ChunkId b = NewId();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        using (MetaStore meta = MetaStore.Open(_dir.Combine("meta.db")))
        {
            meta.RecordBlobs([(a, 100), (b, 200)], now);
            meta.RecordBlobs([(a, 999)], now.AddDays(1)); // already known: kept as it was
            meta.SetChunkRefs("/x", [a]);
            meta.SetChunkRefs("/y", [a]);
            Assert.True(meta.SetPinned(b, true));
        }

        using (MetaStore meta = MetaStore.Open(_dir.Combine("meta.db")))
        {
            Assert.Equal(new BlobInfo(a, 100, 2, false, now), meta.GetBlob(a));
            Assert.Equal(new BlobInfo(b, 200, 0, true, now), meta.GetBlob(b));
            Assert.Equal((2, 300), meta.BlobTotals());
        }
    }

    [Fact]
    public void Replacing_a_paths_references_returns_the_chunks_it_stopped_using()
    {
        using MetaStore meta = MetaStore.Open(_dir.Combine("meta.db"));
        ChunkId a = NewId(), b = NewId(), c = NewId();
        meta.RecordBlobs([(a, 1)], DateTimeOffset.UtcNow);
        Assert.Empty(meta.SetChunkRefs("/f", [a, b]));
        Assert.Equal([a], meta.SetChunkRefs("/f", [b, c]));
        Assert.Equal(0, meta.GetBlob(a)!.RefCount);
        Assert.True(meta.IsReferenced(b));
        Assert.Equal(new HashSet<ChunkId> { b, c }, meta.SetChunkRefs("/f", []).ToHashSet());
        Assert.False(meta.IsReferenced(b));
        Assert.Null(meta.GetBlob(NewId()));
        Assert.True(meta.RemoveBlob(a));
        Assert.False(meta.RemoveBlob(a));
    }

    [Fact]
    public void A_committed_transaction_keeps_the_store_locked_until_its_scope_ends()
    {
        // Commands made in a transaction's scope are disposed after its commit; disposing one changes the
        // shared connection, so it must still happen under the store's lock (a race here once killed the
        // replicator with an IndexOutOfRange inside Microsoft.Data.Sqlite).
        using MetaStore meta = MetaStore.Open(_dir.Combine("meta.db"));
        using (MetaTransaction tx = meta.BeginTransaction())
        {
            meta.EnqueueReplication([(NewId(), 10L)], DateTimeOffset.UtcNow);
            tx.Commit();
            Assert.True(meta.IsLockedByCurrentThread);
        }

        Assert.False(meta.IsLockedByCurrentThread);
        meta.CompleteReplication([NewId()]); // a transaction of its own, committed inside its scope
        Assert.False(meta.IsLockedByCurrentThread);
        Assert.Equal(1, meta.ReplicationBacklog().Chunks);
    }

    [Fact]
    public void Unreferenced_blobs_are_listed_oldest_first_excluding_pinned_and_recent()
    {
        using MetaStore meta = MetaStore.Open(_dir.Combine("meta.db"));
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000);
        ChunkId old = NewId(), older = NewId(), pinned = NewId(), used = NewId(), recent = NewId();
        meta.RecordBlobs([(old, 1)], t0.AddMinutes(2));
        meta.RecordBlobs([(older, 1)], t0.AddMinutes(1));
        meta.RecordBlobs([(pinned, 1), (used, 1)], t0);
        meta.RecordBlobs([(recent, 1)], t0.AddHours(5));
        meta.SetPinned(pinned, true);
        meta.SetChunkRefs("/used", [used]);
        Assert.Equal([older, old], meta.UnreferencedBlobs(t0.AddHours(1), 10));
        meta.Touch(older, t0.AddHours(6));
        Assert.Equal([old], meta.UnreferencedBlobs(t0.AddHours(1), 10));
    }

    [Fact]
    public void Eviction_candidates_come_least_recently_used_first_page_by_page_without_queued_notCheckedpinned_or_recent_blobs()
    {
        using MetaStore meta = MetaStore.Open(_dir.Combine("meta.db"));
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000);
        ChunkId first = NewId(), second = NewId(), third = NewId(), queued = NewId(), notChecked = NewId(), pinned = NewId(), recent = NewId();
        meta.RecordBlobs([(third, 30)], t0.AddMinutes(3));
        meta.RecordBlobs([(first, 10), (queued, 1), (notChecked, 1), (pinned, 1)], t0);
        meta.RecordBlobs([(second, 20)], t0.AddMinutes(2));
        meta.RecordBlobs([(recent, 1)], t0.AddHours(5));
        meta.EnqueueReplication([(queued, 1)], t0);
        meta.AddUnverified([notChecked]);
        meta.SetPinned(pinned, true);
        meta.Touch(first, t0.AddMinutes(1)); // used after it was stored: still the least recent

        IReadOnlyList<EvictionCandidate> page1 = meta.EvictionCandidates(t0.AddHours(1), after: null, limit: 2);
        Assert.Equal([(first, 10L), (second, 20L)], page1.Select(c => (c.Id, c.Size)));
        IReadOnlyList<EvictionCandidate> page2 = meta.EvictionCandidates(t0.AddHours(1), page1[^1], limit: 2);
        Assert.Equal([third], page2.Select(c => c.Id));
        Assert.Empty(meta.EvictionCandidates(t0.AddHours(1), page2[^1], limit: 2));

        meta.CompleteReplication([queued]); // its owners confirmed their copies: now it may go
        Assert.Contains(queued, meta.EvictionCandidates(t0.AddHours(1), after: null, limit: 10).Select(c => c.Id));
    }

    [Fact]
    public void A_database_from_a_newer_build_is_refused_clearly()
    {
        string path = _dir.Combine("meta.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            connection.Open();
            using SqliteCommand cmd = connection.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99";
            cmd.ExecuteNonQuery();
        }

        MetaStoreException e = Assert.Throws<MetaStoreException>(() => MetaStore.Open(path));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_clearly()
    {
        string path = _dir.Combine("meta.db");
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(8192));
        MetaStoreException e = Assert.Throws<MetaStoreException>(() => MetaStore.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_4_keeps_every_entry_of_a_schema_3_database_and_finds_bodies_through_the_records()
    {
        string path = _dir.Combine("meta.db");
        byte[] dirKey = RandomNumberGenerator.GetBytes(32), fileKey = RandomNumberGenerator.GetBytes(32), goneKey = RandomNumberGenerator.GetBytes(32);
        string dir = Convert.ToHexStringLower(dirKey), file = Convert.ToHexStringLower(fileKey), gone = Convert.ToHexStringLower(goneKey);
        byte[] origin = RandomNumberGenerator.GetBytes(32);
        using (MetaStore old = MetaStore.Open(path, schemaVersion: 3))
        {
            Assert.Equal(3, old.SchemaVersion);
        }

        using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            connection.Open();
            using SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = $"""
                INSERT INTO records (key, clock, origin, body, seq) VALUES ($file, 7, $origin, x'010203', 1), ($gone, 8, $origin, x'0405', 2);
                INSERT INTO entries (path, parent, deleted, clock, origin, body) VALUES
                ('{file}', '{dir}', 0, 7, $origin, x'010203'),
                ('{gone}', '{dir}', 1, 8, $origin, x'0405')
                """;
            insert.Parameters.AddWithValue("$origin", origin);
            insert.Parameters.AddWithValue("$file", fileKey);
            insert.Parameters.AddWithValue("$gone", goneKey);
            insert.ExecuteNonQuery();
        }

        using MetaStore meta = MetaStore.Open(path);
        Assert.Equal(MetaStore.CurrentSchemaVersion, meta.SchemaVersion);
        EntryRow row = meta.GetEntry(file)!;
        Assert.Equal((dir, false, 7L), (row.Parent, row.Deleted, row.Clock));
        Assert.Equal(origin, row.Origin);
        Assert.Equal(new byte[] { 1, 2, 3 }, row.Body);
        Assert.Equal([file], meta.ListChildren(dir).Select(r => r.Path));
        var summaries = meta.ListChildSummaries(dir);
        Assert.Equal([(file, 7L, false)], summaries.Select(s => (s.Path, s.Clock, s.IsSummary)));
        Assert.Equal(new byte[] { 1, 2, 3 }, summaries[0].Sealed); // no summary yet: the body stands in
        Assert.True(meta.HasChildren(dir));

        meta.PutEntry(row with { Summary = [9, 9] });
        Assert.Equal([(file, true)], meta.ListChildSummaries(dir).Select(s => (s.Path, s.IsSummary)));
        Assert.Equal(1, meta.LiveEntryCount());
    }

    [Fact]
    public void Schema_6_keeps_records_of_a_schema_5_database_unsigned_until_signed()
    {
        string path = _dir.Combine("meta.db");
        byte[] key = RandomNumberGenerator.GetBytes(32), origin = RandomNumberGenerator.GetBytes(32);
        using (MetaStore old = MetaStore.Open(path, schemaVersion: 5))
        {
            Assert.Equal(5, old.SchemaVersion);
        }

        using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            connection.Open();
            using SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO records (key, clock, origin, body, seq) VALUES ($key, 7, $origin, x'010203', 1)";
            insert.Parameters.AddWithValue("$key", key);
            insert.Parameters.AddWithValue("$origin", origin);
            insert.ExecuteNonQuery();
        }

        using MetaStore meta = MetaStore.Open(path);
        Assert.Equal(6, meta.SchemaVersion);
        StoredRecord before = Assert.Single(meta.UnsignedRecords(10));
        Assert.Equal(key, before.Key);
        Assert.Equal(origin, before.Origin);
        Assert.Equal(new byte[] { 1, 2, 3 }, before.Body);
        Assert.Equal((7L, 1L), (before.Clock, before.Seq));
        Assert.Null(before.Signature);

        meta.SetRecordSignature(key, 6, origin, [9]); // another version: untouched
        Assert.Single(meta.UnsignedRecords(10));
        meta.SetRecordSignature(key, 7, origin, [4, 2]);
        Assert.Empty(meta.UnsignedRecords(10));
        StoredRecord after = meta.GetRecord(key)!;
        Assert.Equal(new byte[] { 4, 2 }, after.Signature);
        Assert.Equal(2L, after.Seq); // a new sequence number: peers that read it unsigned read it again
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}
