using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node.State;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Node;

/// <summary>History in the node's tables: a replaced record is kept with its chunks, and pruned by the replacing clock, pins and all.</summary>
public sealed class NodeStoreHistoryTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly NodeStore _store;
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32), _origin = RandomNumberGenerator.GetBytes(32);

    public NodeStoreHistoryTests() => _store = NodeStore.OpenFile(_dir.Combine("meta.db"));

    private string Path => Convert.ToHexStringLower(_key);

    /// <summary>What the tree stores for one version of the path: the record, the entry row, its chunks.</summary>
    private void Put(long clock, params ChunkId[] chunks)
    {
        using MetaTransaction tx = _store.BeginTransaction();
        _store.PutRecord(_key, clock, _origin, [(byte)clock], null);
        _store.PutEntry(new EntryRow(Path, "parent", chunks.Length == 0, clock, _origin, [(byte)clock]));
        _store.SetChunkRefs(Path, chunks);
        tx.Commit();
    }

    [Fact]
    public void A_replaced_record_becomes_a_version_whose_chunks_stay_referenced_until_it_is_pruned()
    {
        ChunkId old = RandomIds.Chunk(), shared = RandomIds.Chunk(), fresh = RandomIds.Chunk();
        _store.Blobs.RecordBlobs([(old, 1000), (shared, 1000), (fresh, 1000)], DateTimeOffset.UnixEpoch);
        Put(10, old, shared);
        Put(20, shared, fresh);
        Put(30); // a tombstone

        Assert.Equal([(10L, 20L), (20L, 30L)], _store.VersionsOf(_key).Select(v => (v.Clock, v.Until)));
        Assert.Equal([20L, 10L], _store.VersionsIn("parent", 25).Concat(_store.VersionsIn("parent", 15)).Select(v => v.Clock));
        Assert.Empty(_store.VersionsIn("parent", 35)); // the tombstone is current then
        Assert.True(_store.IsReferenced(old));
        Assert.Empty(_store.UnreferencedBlobs(DateTimeOffset.MaxValue, 10));
        Assert.Equal((2L, 3L, 3000L), _store.HistoryTotals(4096));

        // Replaced before 25: version 10 goes, and with it the only reference to its own chunk.
        (int pruned, IReadOnlyList<ChunkId> released) = _store.PruneVersions(25, [], 100);
        Assert.Equal(1, pruned);
        Assert.Equal(new[] { old, shared }.Order(), released.Order());
        Assert.Equal([old], _store.UnreferencedBlobs(DateTimeOffset.MaxValue, 10));
        Assert.Equal([20L], _store.VersionsOf(_key).Select(v => v.Clock));
    }

    [Fact]
    public void A_pin_keeps_the_version_current_at_it_and_only_that_one()
    {
        Put(10);
        Put(20, RandomIds.Chunk());
        Put(30, RandomIds.Chunk());
        Put(40, RandomIds.Chunk());

        (int pruned, _) = _store.PruneVersions(long.MaxValue, [25], 1);
        Assert.Equal(1, pruned);
        (pruned, _) = _store.PruneVersions(long.MaxValue, [25], 1);
        Assert.Equal(1, pruned);
        (pruned, _) = _store.PruneVersions(long.MaxValue, [25], 1);
        Assert.Equal(0, pruned);
        Assert.Equal([20L], _store.VersionsOf(_key).Select(v => v.Clock)); // current from 20 until 30, so at 25
    }

    [Fact]
    public void History_only_copies_are_the_stored_chunks_only_versions_reference_oldest_first_and_none_awaiting_replication()
    {
        ChunkId queued = RandomIds.Chunk(), first = RandomIds.Chunk(), live = RandomIds.Chunk(), absent = RandomIds.Chunk(), second = RandomIds.Chunk();
        _store.Blobs.RecordBlobs([(queued, 100), (first, 200), (live, 300), (second, 400)], DateTimeOffset.UnixEpoch); // absent: not stored here
        Put(10, queued, first);
        Put(20, live, absent);
        Put(30, second);
        Put(40, live); // current
        _store.EnqueueReplication([(queued, 100)], DateTimeOffset.UnixEpoch);

        (IReadOnlyList<(ChunkId Id, long Size)> page, HistoryCursor? next) = _store.HistoryOnlyCopies(null, 2);
        Assert.Equal([(first, 200L)], page);
        Assert.NotNull(next);
        (page, next) = _store.HistoryOnlyCopies(next, 2);
        Assert.Equal([(second, 400L)], page);
        Assert.Null(next);
    }

    [Fact]
    public void A_record_stored_again_under_its_own_version_makes_no_version()
    {
        Put(10);
        Put(10);
        Assert.Empty(_store.VersionsOf(_key));
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }
}
