using System.Security.Cryptography;
using NexNet.Node;

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

    [Fact]
    public async Task Concurrent_readers_of_a_missing_chunk_share_one_fetch_and_the_next_chunks_are_fetched_ahead_once()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2);
        int chunkSize = new NodeOptions().ChunkSize, readAhead = new NodeOptions().ReadAhead;
        byte[] data = RandomNumberGenerator.GetBytes((12 * chunkSize) + 99);
        EntryInfo file = await cluster[1].Volume!.WriteFileAsync("/f.bin", new MemoryStream(data), cancellationToken: TestContext.Current.CancellationToken);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(20));
        await Eventually.WaitAsync(() => cluster[0].Volume!.Stat("/f.bin") is not null, TimeSpan.FromSeconds(10), "A sees the file");
        NexNetNode reader = cluster[0];
        Volume volume = reader.Volume!;

        // Eight readers at once ask for the start of a file none of whose chunks is here: chunk 0 is fetched
        // once for all of them, and the next ReadAhead chunks once each ahead of any read, and no more.
        reader.DropLocalChunks();
        long before = reader.Status().ChunksFetched;
        int[] read = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            await volume.ReadAsync(file, 0, new byte[100], TestContext.Current.CancellationToken))));
        Assert.All(read, n => Assert.Equal(100, n));
        await Eventually.WaitAsync(() => reader.FetchesInFlight == 0, TimeSpan.FromSeconds(10), "the read-ahead fetches finish");
        Assert.Equal(1 + readAhead, reader.Status().ChunksFetched - before);
    }

    [Fact]
    public async Task A_peer_serving_bad_bytes_gets_a_strike_and_is_asked_last_from_then_on()
    {
        // B must still hold its damaged copies when A asks: no background check of pushed replicas here.
        await using NodeCluster cluster = await NodeCluster.StartAsync(3, configure: o => o.ReplicaCheckDelay = TimeSpan.FromDays(1));
        // 32 chunks: A asks B before C for about half of them (rendezvous order), for none only with probability 2^-32.
        byte[] data = RandomNumberGenerator.GetBytes(32 * 1024 * 1024);
        EntryInfo file = await cluster[2].Volume!.WriteFileAsync("/f.bin", new MemoryStream(data), cancellationToken: TestContext.Current.CancellationToken);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(20));
        await Eventually.WaitAsync(() => cluster[0].Volume!.Stat("/f.bin") is not null, TimeSpan.FromSeconds(10), "A sees the file");

        // B's copies are damaged on disk (one ciphertext byte each); it still serves them.
        foreach (NexNet.Crypto.ChunkId id in file.Content!.Chunks)
        {
            string hex = id.ToString();
            string path = Path.Combine(cluster.DataDirectory(1), "blobs", hex[..2], hex[2..4], hex);
            byte[] blob = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
            blob[100] ^= 0x01;
            await File.WriteAllBytesAsync(path, blob, TestContext.Current.CancellationToken);
        }

        cluster[0].DropLocalChunks();
        using var copy = new MemoryStream();
        await using (Stream read = cluster[0].Volume!.OpenRead("/f.bin"))
        {
            await read.CopyToAsync(copy, TestContext.Current.CancellationToken);
        }

        Assert.True(data.AsSpan().SequenceEqual(copy.ToArray()), cluster.Dump());
        Assert.True(cluster[0].Status().BadChunksRejected >= 1, cluster.Dump());
        Assert.Contains(cluster.Logs[0].Lines, l => l.Contains("with bad bytes", StringComparison.Ordinal) && l.Contains(cluster[1].Id.Abbreviated, StringComparison.Ordinal));

        // Read again from nothing: B, struck, is asked after C for every chunk, so no fetch receives a bad copy
        // (without the strike order, B comes first for about half of the 32 chunks). Counted by A's fetches alone,
        // once the first read's fetches are done (one can outlive the read, whose reader goes on once the chunk is
        // in the store): the node's rejected count also takes in the background checks of copies that members
        // push while B proves and replaces copies with its damaged ones, which once made it 3.
        await Eventually.WaitAsync(() => cluster[0].FetchesInFlight == 0, TimeSpan.FromSeconds(30), "A's fetches of the first read finish");
        long rejected = cluster[0].FetchesRejected;
        Assert.True(rejected >= 1, cluster.Dump());
        cluster[0].DropLocalChunks();
        using var again = new MemoryStream();
        await using (Stream read = cluster[0].Volume!.OpenRead("/f.bin"))
        {
            await read.CopyToAsync(again, TestContext.Current.CancellationToken);
        }

        Assert.True(data.AsSpan().SequenceEqual(again.ToArray()), cluster.Dump());
        Assert.True(cluster[0].FetchesRejected == rejected, $"{cluster[0].FetchesRejected - rejected} bad copies fetched on the second read:\n{cluster.Dump()}");
    }
}
