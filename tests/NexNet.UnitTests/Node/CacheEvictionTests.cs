using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.Node.Space;
using NexNet.Node.State;
using NexNet.P2P;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Node;

/// <summary>What the cache may drop, over a real blob store and SQLite index in a temp directory.</summary>
public sealed class CacheEvictionTests : IDisposable
{
    private static readonly NodeId s_self = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
    private static readonly NodeId[] s_members = [s_self, NodeId.FromBytes(RandomNumberGenerator.GetBytes(32)), NodeId.FromBytes(RandomNumberGenerator.GetBytes(32))];
    private readonly TempDirectory _dir = new();
    private readonly NodeStore _meta;
    private readonly BlobStore _blobs;
    private readonly ChunkHolds _holds = new();

    public CacheEvictionTests()
    {
        _meta = NodeStore.OpenFile(_dir.Combine("meta.db"));
        _blobs = new BlobStore(_dir.Combine("blobs"));
    }

    [Fact]
    public void Only_copies_that_are_old_unheld_unused_and_not_owned_here_go_least_recently_used_first()
    {
        // Seven blobs of 100 bytes: a limit of 600 takes one, the least recently used copy.
        var eviction = new CacheEviction(limit: 600, TimeSpan.FromMinutes(1), s_self, () => s_members, replicationFactor: 1, _meta, _blobs, _holds, NullLogger.Instance);
        ChunkId oldest = Copy(hoursAgo: 3), older = Copy(hoursAgo: 2), held = Copy(hoursAgo: 2), released = Copy(hoursAgo: 2), used = Copy(hoursAgo: 2);
        ChunkId owned = Store(Id(ownedHere: true), hoursAgo: 4), fresh = Store(Id(ownedHere: false), hoursAgo: 0);
        _holds.Hold(held);
        _holds.Hold(released);
        _holds.Release(released);
        eviction.Used(released); // as Volume.ReleaseChunk does: its commit may not have queued it yet
        eviction.Used(used);

        Assert.Equal(1, eviction.Evict().Count);
        Assert.False(_blobs.Has(oldest));
        Assert.True(_blobs.Has(older));

        // A limit of one byte takes every copy that may go, and nothing else (the uses noted above are in the index now).
        var strict = new CacheEviction(limit: 1, TimeSpan.FromMinutes(1), s_self, () => s_members, replicationFactor: 1, _meta, _blobs, _holds, NullLogger.Instance);
        Assert.Equal(1, strict.Evict().Count);
        Assert.False(_blobs.Has(older));
        Assert.All(new[] { held, released, used, owned, fresh }, id => Assert.True(_blobs.Has(id)));
        Assert.Null(_meta.Blobs.GetBlob(oldest)); // gone from the index too
    }

    [Fact]
    public void A_store_within_its_limit_or_with_no_limit_loses_nothing()
    {
        ChunkId copy = Copy(hoursAgo: 5);
        Assert.Equal(0, new CacheEviction(limit: 0, TimeSpan.FromMinutes(1), s_self, () => s_members, 1, _meta, _blobs, _holds, NullLogger.Instance).Evict().Count);
        Assert.Equal(0, new CacheEviction(limit: 1 << 20, TimeSpan.FromMinutes(1), s_self, () => s_members, 1, _meta, _blobs, _holds, NullLogger.Instance).Evict().Count);
        Assert.True(_blobs.Has(copy));
    }

    /// <summary>A chunk another member owns, stored here <paramref name="hoursAgo"/> hours ago.</summary>
    private ChunkId Copy(int hoursAgo) => Store(Id(ownedHere: false), hoursAgo);

    private ChunkId Store(ChunkId id, int hoursAgo)
    {
        byte[] blob = RandomNumberGenerator.GetBytes(100);
        Assert.True(_blobs.Put(id, blob));
        _meta.Blobs.RecordBlobs([(id, blob.Length)], DateTimeOffset.UtcNow.AddHours(-hoursAgo));
        return id;
    }

    private static ChunkId Id(bool ownedHere)
    {
        while (true)
        {
            var id = ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32));
            if ((Placement.Owners(id, s_members, 1)[0] == s_self) == ownedHere)
            {
                return id;
            }
        }
    }

    public void Dispose()
    {
        _meta.Dispose();
        _dir.Dispose();
    }
}
