using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using NexNet.Crypto;
using NexNet.Node.State;
using NexNet.P2P;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Node;

/// <summary>The node's tables beside the blob index, and how a data directory from before each layer owned its tables is carried over.</summary>
public sealed class NodeStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string DbPath => _dir.Combine("meta.db");

    private NodeStore Open() => NodeStore.OpenFile(DbPath);

    /// <summary>
    /// A meta.db as a build with one shared schema left it at <paramref name="sharedVersion"/>: the same
    /// tables (the migrations are the same text), no per-owner versions, and user_version set.
    /// </summary>
    private void MakeSharedSchemaDatabase(int sharedVersion)
    {
        using (MetaDatabase db = MetaDatabase.Open(DbPath))
        {
            NodeStore.Open(BlobIndex.Open(db), schemaVersion: sharedVersion - 1);
        }

        Sql($"DROP TABLE schema_versions; PRAGMA user_version = {sharedVersion};");
    }

    private void Sql(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=false");
        connection.Open();
        using SqliteCommand cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        cmd.ExecuteNonQuery();
    }

    [Fact]
    public void A_new_database_has_both_owners_at_their_current_schemas()
    {
        using NodeStore store = Open();
        Assert.Equal(NodeStore.CurrentSchemaVersion, store.Database.SchemaVersion(NodeStore.SchemaOwner));
        Assert.Equal(BlobIndex.CurrentSchemaVersion, store.Database.SchemaVersion(BlobIndex.SchemaOwner));
    }

    [Fact]
    public void A_data_directory_from_the_shared_schema_keeps_every_row_and_gets_owner_versions()
    {
        MakeSharedSchemaDatabase(6);
        ChunkId blob = RandomIds.Chunk(), queued = RandomIds.Chunk(), unchecked_ = RandomIds.Chunk();
        byte[] key = RandomNumberGenerator.GetBytes(32), origin = RandomNumberGenerator.GetBytes(32), peer = RandomNumberGenerator.GetBytes(32);
        string path = Convert.ToHexStringLower(key);
        Sql("""
            INSERT INTO blobs (id, size, last_access) VALUES ($blob, 100, 5), ($unchecked, 7, 5);
            INSERT INTO records (key, clock, origin, body, seq, sig) VALUES ($key, 7, $origin, x'0102', 1, x'99');
            INSERT INTO entries (parent, path, deleted, clock, origin, summary) VALUES ('p', $path, 0, 7, $origin, x'aa');
            INSERT INTO chunk_refs (chunk, path) VALUES ($blob, $path);
            INSERT INTO replication (chunk, size, next_try) VALUES ($queued, 3, 0);
            INSERT INTO unverified (id) VALUES ($unchecked);
            INSERT INTO sync_cursors (node_id, seq) VALUES ($peer, 41);
            INSERT INTO peers (node_id, address, last_seen) VALUES ($peer, '10.0.0.2:7000', 1000);
            """, ("$blob", blob.ToBytes()), ("$unchecked", unchecked_.ToBytes()), ("$queued", queued.ToBytes()), ("$key", key), ("$origin", origin),
            ("$path", path), ("$peer", peer));

        using NodeStore store = Open();
        Assert.Equal((1, NodeStore.CurrentSchemaVersion), (store.Database.SchemaVersion(BlobIndex.SchemaOwner), store.Database.SchemaVersion(NodeStore.SchemaOwner)));
        Assert.Equal(MetaDatabase.OwnedSchemasMarker, store.Database.Pragma("user_version")); // a build of the shared schema refuses it now
        Assert.Equal(100, store.Blobs.GetBlob(blob)!.Size);
        Assert.True(store.IsReferenced(blob));
        Assert.Equal(new byte[] { 0x99 }, store.GetRecord(key)!.Signature);
        EntryRow entry = store.GetEntry(path)!;
        Assert.Equal(("p", 7L), (entry.Parent, entry.Clock));
        Assert.Equal(new byte[] { 1, 2 }, entry.Body); // the body is the record's
        Assert.Equal([queued], store.DueReplication(DateTimeOffset.UtcNow, 10));
        Assert.Equal([unchecked_], store.Unverified());
        NodeId peerId = NodeId.FromBytes(peer);
        Assert.Equal(41, store.SyncCursor(peerId));
        Assert.Equal([new KnownPeer(peerId, "10.0.0.2:7000", DateTimeOffset.FromUnixTimeMilliseconds(1000))], store.Known(10));

        // The node's own migration after the carried-over ones: the unchecked mark goes with its blob.
        store.Blobs.RemoveBlob(unchecked_);
        Assert.Empty(store.Unverified());
    }

    [Fact]
    public void Unchecked_replicas_are_listed_until_checked_or_removed_and_survive_a_reopen()
    {
        ChunkId a = RandomIds.Chunk(), b = RandomIds.Chunk(), c = RandomIds.Chunk();
        using (NodeStore store = Open())
        {
            store.AddUnverified([a, b, c, a]);
            store.RemoveUnverified(b);
            store.Blobs.RecordBlobs([(c, 10)], DateTimeOffset.UtcNow);
            store.Blobs.RemoveBlob(c); // a collected blob leaves the list too
        }

        using NodeStore reopened = Open();
        Assert.Equal([a], reopened.Unverified());
    }

    [Fact]
    public void Replacing_a_paths_references_returns_the_chunks_it_stopped_using()
    {
        using NodeStore store = Open();
        ChunkId a = RandomIds.Chunk(), b = RandomIds.Chunk(), c = RandomIds.Chunk();
        store.Blobs.RecordBlobs([(a, 1)], DateTimeOffset.UtcNow);
        Assert.Empty(store.SetChunkRefs("/f", [a, b]));
        Assert.Equal([a], store.SetChunkRefs("/f", [b, c]));
        Assert.False(store.IsReferenced(a));
        Assert.True(store.IsReferenced(b));
        Assert.Equal(new HashSet<ChunkId> { b, c }, store.SetChunkRefs("/f", []).ToHashSet());
        Assert.False(store.IsReferenced(b));
    }

    [Fact]
    public void Unreferenced_blobs_are_listed_oldest_first_excluding_pinned_and_recent()
    {
        using NodeStore store = Open();
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000);
        ChunkId old = RandomIds.Chunk(), older = RandomIds.Chunk(), pinned = RandomIds.Chunk(), used = RandomIds.Chunk(), recent = RandomIds.Chunk();
        store.Blobs.RecordBlobs([(old, 1)], t0.AddMinutes(2));
        store.Blobs.RecordBlobs([(older, 1)], t0.AddMinutes(1));
        store.Blobs.RecordBlobs([(pinned, 1), (used, 1)], t0);
        store.Blobs.RecordBlobs([(recent, 1)], t0.AddHours(5));
        store.Blobs.SetPinned(pinned, true);
        store.SetChunkRefs("/used", [used]);
        Assert.Equal([older, old], store.UnreferencedBlobs(t0.AddHours(1), 10));
        store.Blobs.Touch(older, t0.AddHours(6));
        Assert.Equal([old], store.UnreferencedBlobs(t0.AddHours(1), 10));
    }

    [Fact]
    public void Eviction_candidates_come_least_recently_used_first_page_by_page_without_queued_unchecked_pinned_or_recent_blobs()
    {
        using NodeStore store = Open();
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000);
        ChunkId first = RandomIds.Chunk(), second = RandomIds.Chunk(), third = RandomIds.Chunk(), queued = RandomIds.Chunk(), notChecked = RandomIds.Chunk(), pinned = RandomIds.Chunk(), recent = RandomIds.Chunk();
        store.Blobs.RecordBlobs([(third, 30)], t0.AddMinutes(3));
        store.Blobs.RecordBlobs([(first, 10), (queued, 1), (notChecked, 1), (pinned, 1)], t0);
        store.Blobs.RecordBlobs([(second, 20)], t0.AddMinutes(2));
        store.Blobs.RecordBlobs([(recent, 1)], t0.AddHours(5));
        store.EnqueueReplication([(queued, 1)], t0);
        store.AddUnverified([notChecked]);
        store.Blobs.SetPinned(pinned, true);
        store.Blobs.Touch(first, t0.AddMinutes(1)); // used after it was stored: still the least recent

        IReadOnlyList<EvictionCandidate> page1 = store.EvictionCandidates(t0.AddHours(1), after: null, limit: 2);
        Assert.Equal([(first, 10L), (second, 20L)], page1.Select(c => (c.Id, c.Size)));
        IReadOnlyList<EvictionCandidate> page2 = store.EvictionCandidates(t0.AddHours(1), page1[^1], limit: 2);
        Assert.Equal([third], page2.Select(c => c.Id));
        Assert.Empty(store.EvictionCandidates(t0.AddHours(1), page2[^1], limit: 2));

        store.CompleteReplication([queued]); // its owners confirmed their copies: now it may go
        Assert.Contains(queued, store.EvictionCandidates(t0.AddHours(1), after: null, limit: 10).Select(c => c.Id));
    }

    [Fact]
    public void Replication_queue_updates_take_the_durability_they_are_given()
    {
        using NodeStore store = Open();
        ChunkId a = RandomIds.Chunk();
        store.EnqueueFile(new ChunkList(4096, 4096 * 3, [a, ChunkId.Hole, a]), DateTimeOffset.UtcNow); // each chunk once, no hole
        Assert.Equal((1, (long)BlobFormat.SealedLength(4096)), store.ReplicationBacklog());
        using (MetaTransaction tx = store.BeginTransaction(Durability.Relaxed))
        {
            store.DeferReplication([a], DateTimeOffset.UtcNow.AddHours(1)); // joins: relaxed
            Assert.Equal(1L, store.Database.Pragma("synchronous"));
            tx.Commit();
        }

        Assert.Empty(store.DueReplication(DateTimeOffset.UtcNow, 10));
        store.CompleteReplication([a], Durability.Relaxed);
        Assert.Equal(2L, store.Database.Pragma("synchronous"));
        Assert.Equal((0, 0L), store.ReplicationBacklog());
    }

    [Fact]
    public void The_peer_book_keeps_the_newest_address_and_lists_most_recent_first()
    {
        NodeId a = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32)), b = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000);
        using (NodeStore store = Open())
        {
            store.Remember(a, "127.0.0.1:1", t0);
            store.Remember(b, "127.0.0.1:2", t0.AddSeconds(1));
            store.Remember(a, "127.0.0.1:3", t0.AddSeconds(2));
            store.Remember(b, "127.0.0.1:4", t0); // older news: the address changes, the time does not go back
        }

        using NodeStore reopened = Open();
        Assert.Equal([new KnownPeer(a, "127.0.0.1:3", t0.AddSeconds(2)), new KnownPeer(b, "127.0.0.1:4", t0.AddSeconds(1))], reopened.Known(10));
        Assert.Single(reopened.Known(1));
    }

    [Fact]
    public void Node_schema_3_keeps_every_entry_of_a_shared_schema_3_database_and_finds_bodies_through_the_records()
    {
        MakeSharedSchemaDatabase(3);
        byte[] dirKey = RandomNumberGenerator.GetBytes(32), fileKey = RandomNumberGenerator.GetBytes(32), goneKey = RandomNumberGenerator.GetBytes(32);
        string dir = Convert.ToHexStringLower(dirKey), file = Convert.ToHexStringLower(fileKey), gone = Convert.ToHexStringLower(goneKey);
        byte[] origin = RandomNumberGenerator.GetBytes(32);
        Sql($"""
            INSERT INTO records (key, clock, origin, body, seq) VALUES ($file, 7, $origin, x'010203', 1), ($gone, 8, $origin, x'0405', 2);
            INSERT INTO entries (path, parent, deleted, clock, origin, body) VALUES
            ('{file}', '{dir}', 0, 7, $origin, x'010203'),
            ('{gone}', '{dir}', 1, 8, $origin, x'0405')
            """, ("$origin", origin), ("$file", fileKey), ("$gone", goneKey));

        using NodeStore store = Open();
        Assert.Equal(NodeStore.CurrentSchemaVersion, store.Database.SchemaVersion(NodeStore.SchemaOwner));
        EntryRow row = store.GetEntry(file)!;
        Assert.Equal((dir, false, 7L), (row.Parent, row.Deleted, row.Clock));
        Assert.Equal(origin, row.Origin);
        Assert.Equal(new byte[] { 1, 2, 3 }, row.Body);
        Assert.Equal([file], store.ListChildren(dir).Select(r => r.Path));
        var summaries = store.ListChildSummaries(dir);
        Assert.Equal([(file, 7L, false)], summaries.Select(s => (s.Path, s.Clock, s.IsSummary)));
        Assert.Equal(new byte[] { 1, 2, 3 }, summaries[0].Sealed); // no summary yet: the body stands in
        Assert.True(store.HasChildren(dir));

        store.PutEntry(row with { Summary = [9, 9] });
        Assert.Equal([(file, true)], store.ListChildSummaries(dir).Select(s => (s.Path, s.IsSummary)));
        Assert.Equal(1, store.LiveEntryCount());
    }

    [Fact]
    public void Node_schema_5_keeps_records_of_a_shared_schema_5_database_unsigned_until_signed()
    {
        MakeSharedSchemaDatabase(5);
        byte[] key = RandomNumberGenerator.GetBytes(32), origin = RandomNumberGenerator.GetBytes(32);
        Sql("INSERT INTO records (key, clock, origin, body, seq) VALUES ($key, 7, $origin, x'010203', 1)", ("$key", key), ("$origin", origin));

        using NodeStore store = Open();
        StoredRecord before = Assert.Single(store.UnsignedRecords(10));
        Assert.Equal(key, before.Key);
        Assert.Equal(origin, before.Origin);
        Assert.Equal(new byte[] { 1, 2, 3 }, before.Body);
        Assert.Equal((7L, 1L), (before.Clock, before.Seq));
        Assert.Null(before.Signature);

        store.SetRecordSignature(key, 6, origin, [9]); // another version: untouched
        Assert.Single(store.UnsignedRecords(10));
        store.SetRecordSignature(key, 7, origin, [4, 2]);
        Assert.Empty(store.UnsignedRecords(10));
        StoredRecord after = store.GetRecord(key)!;
        Assert.Equal(new byte[] { 4, 2 }, after.Signature);
        Assert.Equal(2L, after.Seq); // a new sequence number: peers that read it unsigned read it again
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}
