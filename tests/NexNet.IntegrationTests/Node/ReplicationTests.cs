namespace NexNet.IntegrationTests.Node;

/// <summary>Node processes on loopback: chunks reach their owners, a node without its chunks reads through its peers, a killed node is repaired around.</summary>
[Collection(NodeProcessTests.Name)]
public sealed class ReplicationTests
{
    private const long GiB = 1L << 30;
    private const long MiB = 1L << 20;

    [Fact]
    public async Task Files_stored_through_C_are_read_back_through_A_after_As_chunks_are_deleted_with_exactly_R_copies()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(3);
        HostedFullNode a = cluster[0], c = cluster[2];
        await ForEachAsync(Enumerable.Range(0, 100), 8, i => c.RunAsync($"gen /small/f{i} {MiB} {i + 1}"));
        await c.RunAsync($"gen /big {GiB} 1000", TimeSpan.FromMinutes(5));
        await cluster.WaitForReplicationAsync(TimeSpan.FromMinutes(2));
        await cluster.WaitAllAsync(async n => (await n.RunAsync("stat /big")) == $"File {GiB}" && (await n.RunAsync("ls /small")).Split('|').Length == 100,
            TimeSpan.FromSeconds(30), "every node sees all 101 files");

        await cluster.WaitForCopiesAsync(100 + 1024, 3, TimeSpan.FromMinutes(1));

        await a.RunAsync("drop-chunks");
        Assert.Empty(await a.ChunksAsync());
        await a.RunAsync($"check /big {GiB} 1000", TimeSpan.FromMinutes(5));
        await ForEachAsync(Enumerable.Range(0, 100), 8, i => a.RunAsync($"check /small/f{i} {MiB} {i + 1}"));

        await cluster.WaitForCopiesAsync(100 + 1024, 3, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_node_killed_while_a_GiB_is_stored_loses_nothing_and_repair_restores_R_live_copies()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(4);
        HostedFullNode a = cluster[0], c = cluster[2], d = cluster[3];
        Task<string> store = c.RunAsync($"gen /big {GiB} 77", TimeSpan.FromMinutes(5));
        await cluster.WaitAllAsync(async n => n != d || (await n.StatusAsync())["blobs"] >= 64, TimeSpan.FromMinutes(2), "D receives its first chunks");
        d.Process.Kill();

        await store; // the write completes although one owner died under it
        await cluster.WaitAllAsync(async n => (await n.StatusAsync())["members"] == 3, TimeSpan.FromSeconds(30), "D is counted out");
        await cluster.WaitForReplicationAsync(TimeSpan.FromMinutes(3));

        // Repair is eventual: the queues can drain a moment before a node's re-check of its chunks queues
        // them again (a clean-clone .ci/run on 2026-12-02 checked once here and found 521 of 1,024 chunks with 2 copies).
        await cluster.WaitForCopiesAsync(1024, 3, TimeSpan.FromMinutes(1));
        string[] chunks = (await c.RunAsync("file-chunks /big")).Split(' ');
        Assert.Equal(1024, chunks.Length);
        Dictionary<string, int> copies = await cluster.CopiesAsync();
        Assert.All(chunks, id => Assert.Equal(3, copies.GetValueOrDefault(id)));
        await a.RunAsync($"check /big {GiB} 77", TimeSpan.FromMinutes(5));
    }

    internal static async Task ForEachAsync<T>(IEnumerable<T> items, int parallelism, Func<T, Task> action) =>
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (item, _) => await action(item));

    [Fact]
    public async Task A_node_that_joins_gets_the_copies_it_now_owns_without_being_asked()
    {
        // R = 3 on two nodes: two copies each. A third node makes three owners for every chunk.
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(2);
        await cluster[0].RunAsync("gen /f 3000000 11");
        await cluster.WaitForCopiesAsync(chunks: 3, copies: 2, TimeSpan.FromSeconds(60));
        HostedFullNode joined = await cluster.AddAsync("C");
        await cluster.WaitForMeshAsync();
        await cluster.WaitForCopiesAsync(chunks: 3, copies: 3, TimeSpan.FromSeconds(60));
        Assert.Equal(3, (await joined.ChunksAsync()).Count); // pushed to it: it read nothing
    }
}
