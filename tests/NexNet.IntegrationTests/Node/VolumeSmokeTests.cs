using System.Security.Cryptography;
using NexNet.Node;
using NexNet.Tests.Shared;

namespace NexNet.IntegrationTests.Node;

/// <summary>In-process nodes: the Volume API end to end over real connections and real stores.</summary>
public sealed class VolumeSmokeTests
{
    [Fact]
    public async Task A_file_written_through_one_node_is_read_through_another_after_its_local_chunks_are_gone()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(3);
        byte[] data = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 123);
        Volume c = cluster[2].Volume!;
        await c.WriteFileAsync("/docs/a.bin", new MemoryStream(data), cancellationToken: TestContext.Current.CancellationToken);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(20));
        await Eventually.WaitAsync(() => cluster[0].Volume!.Stat("/docs/a.bin") is not null, TimeSpan.FromSeconds(10), "A sees the file");
        foreach (NexNetNode node in cluster.Nodes)
        {
            Assert.Equal(6, node.LocalChunks().Count());
        }

        cluster[0].DropLocalChunks();
        using var copy = new MemoryStream();
        await using (Stream read = cluster[0].Volume!.OpenRead("/docs/a.bin"))
        {
            await read.CopyToAsync(copy, TestContext.Current.CancellationToken);
        }

        Assert.True(data.AsSpan().SequenceEqual(copy.ToArray()), cluster.Dump());
        Assert.Equal(["a.bin"], cluster[1].Volume!.List("/docs").Select(e => e.Name));
    }
}
