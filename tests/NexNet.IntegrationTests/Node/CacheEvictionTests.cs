using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;

namespace NexNet.IntegrationTests.Node;

/// <summary>The local store as a bounded cache: copies go, least recently used first; what a node owns stays.</summary>
public sealed class CacheEvictionTests
{
    [Fact]
    public async Task A_node_over_its_cache_limit_evicts_the_copies_it_fetched_keeps_every_chunk_it_owns_and_can_still_read_the_file()
    {
        // Four nodes, R = 2: node A owns about half of the 32 chunks of a file written through D and fetches
        // the rest when it reads. A limit of one byte makes A keep only what it must.
        await using NodeCluster cluster = await NodeCluster.StartAsync(4, replicationFactor: 2, configure: o =>
        {
            o.CacheLimit = 1;
            o.CollectionGrace = TimeSpan.FromMilliseconds(100); // eviction leaves chunks stored or used within this alone
        });
        CancellationToken ct = TestContext.Current.CancellationToken;
        byte[] data = RandomNumberGenerator.GetBytes(32 * 1024 * 1024);
        EntryInfo file = await cluster[3].Volume!.WriteFileAsync("/big.bin", new MemoryStream(data), cancellationToken: ct);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(30));
        NexNetNode a = cluster[0];
        await Eventually.WaitAsync(() => a.Volume!.Stat("/big.bin") is not null, TimeSpan.FromSeconds(10), "A sees the file");

        bool OwnedByA(ChunkId id) => Placement.Owners(id, a.Members, 2).Contains(a.Id);
        ChunkId[] chunks = [.. file.Content!.Chunks];
        ChunkId[] owned = [.. chunks.Where(OwnedByA)];
        Assert.InRange(owned.Length, 1, chunks.Length - 1); // all or none: probability 2^-31

        Assert.Equal(data, await ReadAllAsync(a, ct));
        Assert.Equal(chunks.Length, a.LocalChunks().Intersect(chunks).Count()); // the fetched copies are cached

        // Each pass leaves alone what was used within the grace: wait until the copies are old enough to go.
        await Eventually.WaitAsync(() =>
            {
                a.EvictCache();
                return a.LocalChunks().Intersect(chunks).Count() == owned.Length;
            }, TimeSpan.FromSeconds(10),
            "A evicts every copy it does not own", () => $"A holds {a.LocalChunks().Intersect(chunks).Count()} of the file's chunks, owns {owned.Length}\n{cluster.Dump()}");
        Assert.All(owned, id => Assert.Contains(id, a.LocalChunks()));
        Assert.Contains(cluster.Logs[0].Lines, l => l.Contains("cache: evicted", StringComparison.Ordinal));
        foreach (ChunkId id in chunks)
        {
            Assert.True(cluster.Nodes.Count(n => n.LocalChunks().Contains(id)) >= 2, $"chunk {id} kept R = 2 copies");
        }

        // The file is still whole through A: what went is fetched again.
        Assert.Equal(data, await ReadAllAsync(a, ct));
    }

    private static async Task<byte[]> ReadAllAsync(NexNetNode node, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        await using (Stream read = node.Volume!.OpenRead("/big.bin"))
        {
            await read.CopyToAsync(copy, cancellationToken);
        }

        return copy.ToArray();
    }
}
