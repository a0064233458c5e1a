using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;

namespace NexNet.IntegrationTests.Node;

/// <summary>A node whose disk is full (for its chunk store: free space within its reserve) refuses pushes with a clear reply, and the writer places the chunks elsewhere.</summary>
public sealed class FullPeerTests
{
    [Fact]
    public async Task A_full_peer_refuses_pushes_without_a_strike_and_every_chunk_still_gets_R_copies_on_the_others()
    {
        await using var cluster = new NodeCluster();
        for (int i = 0; i < 3; i++)
        {
            cluster.Add();
        }

        NexNetNode full = cluster.Add(configure: o => o.SpaceReserve = long.MaxValue / 4); // no disk has that much free: the store refuses every blob
        await cluster.WaitForMeshAsync();
        NexNetNode writer = cluster[0];
        EntryInfo file = await writer.Volume!.WriteFileAsync("/f.bin", new MemoryStream(RandomNumberGenerator.GetBytes(6 * 1024 * 1024)),
            cancellationToken: TestContext.Current.CancellationToken);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(30));

        NexNetNode[] others = [.. cluster.Nodes.Where(n => n != full)];
        foreach (ChunkId id in file.Content!.Chunks)
        {
            Assert.Equal(3, others.Count(n => n.LocalChunks().Contains(id)));
        }

        Assert.Empty(full.LocalChunks());
        Assert.Contains("has no space for chunks: placing chunks on other owners", cluster.Logs[0].Dump(), StringComparison.Ordinal);
        Assert.Contains("refused chunks from", cluster.Logs[3].Dump(), StringComparison.Ordinal);
        Assert.Equal(0, writer.Status().BadChunksRejected); // refused is not lying: no strike
    }
}
