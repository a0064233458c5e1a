using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;

namespace NexNet.IntegrationTests.Node;

/// <summary>History over real nodes and real stores: versions kept, replicated, restored, pinned and pruned.</summary>
public sealed class HistoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_overwrite_keeps_the_old_contents_in_history_on_both_nodes_and_restoring_makes_a_new_version()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2);
        Volume a = cluster[0].Volume!, b = cluster[1].Volume!;
        byte[] first = RandomNumberGenerator.GetBytes(300_000), second = RandomNumberGenerator.GetBytes(200_000);
        await a.WriteFileAsync("/doc.bin", new MemoryStream(first), cancellationToken: Ct);
        await a.WriteFileAsync("/doc.bin", new MemoryStream(second), cancellationToken: Ct);
        await Eventually.WaitAsync(() => b.History("/doc.bin").Count == 2, TimeSpan.FromSeconds(10), "B holds both versions", cluster.Dump);

        IReadOnlyList<HistoryVersion> history = b.History("/doc.bin");
        Assert.Equal([HistoryChange.Created, HistoryChange.Content], history.Select(v => v.Change));
        Assert.Equal(cluster[0].Id, history[0].Device);
        Assert.NotNull(history[0].ReplacedAt);
        Assert.Null(history[1].ReplacedAt);

        // The old chunks outlive a collection with no grace at all: history references them.
        foreach (NexNetNode node in cluster.Nodes)
        {
            node.CollectGarbage(TimeSpan.Zero);
        }

        EntryInfo restored = b.RestoreVersion("/doc.bin", 1);
        Assert.Equal(first, await ReadAllAsync(b, "/doc.bin"));
        Assert.Equal(3, b.History("/doc.bin").Count);
        await Eventually.WaitAsync(() => a.Stat("/doc.bin")?.Version == restored.Version, TimeSpan.FromSeconds(10), "A sees the restore");
        Assert.Equal(first, await ReadAllAsync(a, "/doc.bin"));
    }

    [Fact]
    public async Task A_deleted_tree_comes_back_as_it_was_and_trash_lists_it_until_then()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2);
        Volume a = cluster[0].Volume!, b = cluster[1].Volume!;
        var files = new Dictionary<string, byte[]>();
        for (int i = 0; i < 30; i++)
        {
            string path = $"/tree/d{i % 3}/f{i}.bin";
            files[path] = RandomNumberGenerator.GetBytes(i % 2 == 0 ? 100 : 70_000);
            await a.WriteFileAsync(path, new MemoryStream(files[path]), mode: 0b110_000_000u + (uint)(i % 8), modifiedAt: DateTimeOffset.UnixEpoch.AddDays(i), cancellationToken: Ct);
        }

        await Eventually.WaitAsync(() => b.Stat("/tree/d2/f29.bin") is not null, TimeSpan.FromSeconds(10), "B has the tree", cluster.Dump);
        DateTimeOffset before = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > before.AddMilliseconds(2), TimeSpan.FromSeconds(5), "the clock moves past the saved moment");
        a.Delete("/tree", recursive: true);
        await Eventually.WaitAsync(() => b.Stat("/tree") is null, TimeSpan.FromSeconds(10), "B sees the deletion", cluster.Dump);

        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), b.Trash("/").Where(t => !t.Entry.IsDirectory).Select(t => t.Entry.Path));
        Assert.Equal(["d0", "d1", "d2"], b.ListAt("/tree", before).Select(e => e.Name));
        int restored = b.Restore("/tree", before, recursive: true);
        Assert.Equal(34, restored); // 30 files, 3 directories and /tree
        foreach ((string path, byte[] data) in files)
        {
            EntryInfo now = b.Stat(path)!;
            EntryInfo then = b.StatAt(path, before)!;
            Assert.Equal(then.Mode, now.Mode);
            Assert.Equal(then.ModifiedAt, now.ModifiedAt);
            Assert.Equal(data, await ReadAllAsync(b, path));
        }

        Assert.DoesNotContain(b.Trash("/"), t => !t.Entry.IsDirectory);
    }

    [Fact]
    public async Task Retention_prunes_by_the_replacing_version_and_a_snapshot_outlives_it()
    {
        TimeSpan retention = TimeSpan.FromSeconds(2);
        await using NodeCluster cluster = await NodeCluster.StartAsync(2, configure: o =>
        {
            o.HistoryRetention = retention;
            o.CollectionInterval = TimeSpan.FromHours(1); // pruned only when the test says
        });
        Volume a = cluster[0].Volume!, b = cluster[1].Volume!;
        byte[] pinned = RandomNumberGenerator.GetBytes(150_000), loose = RandomNumberGenerator.GetBytes(150_000);
        await a.WriteFileAsync("/p.bin", new MemoryStream(pinned), cancellationToken: Ct);
        a.CreateSnapshot("before");
        await Eventually.WaitAsync(() => b.Snapshots().Count == 1, TimeSpan.FromSeconds(10), "B has the snapshot", cluster.Dump);
        await a.WriteFileAsync("/l.bin", new MemoryStream(loose), cancellationToken: Ct); // after the snapshot: nothing pins its versions
        await a.WriteFileAsync("/p.bin", new MemoryStream([1, 2, 3]), cancellationToken: Ct);
        await a.WriteFileAsync("/l.bin", new MemoryStream([4, 5, 6]), cancellationToken: Ct);
        await a.WriteFileAsync("/l.bin", new MemoryStream([7, 8, 9]), cancellationToken: Ct);
        await Eventually.WaitAsync(() => b.History("/l.bin").Count == 3, TimeSpan.FromSeconds(10), "B has every version", cluster.Dump);
        DateTimeOffset replaced = DateTimeOffset.UtcNow;

        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > replaced + retention, TimeSpan.FromSeconds(10), "retention passes");
        foreach (NexNetNode node in cluster.Nodes)
        {
            node.PruneHistory();
        }

        // Both nodes agree: /l.bin keeps only its current version; /p.bin keeps the one the snapshot pinned.
        foreach (Volume v in new[] { a, b })
        {
            Assert.Equal([3L], v.History("/l.bin").Select(h => h.Entry.Size));
            Assert.Equal([150_000L, 3L], v.History("/p.bin").Select(h => h.Entry.Size));
            Assert.Equal(pinned, await ReadAllAsync(v, v.StatAt("/p.bin", v.Snapshots()[0].At)!));
        }

        b.DeleteSnapshot("before");
        await Eventually.WaitAsync(() => a.Snapshots().Count == 0, TimeSpan.FromSeconds(10), "A sees the snapshot go", cluster.Dump);
        Assert.True(cluster[0].PruneHistory() > 0);
        Assert.Single(a.History("/p.bin"));
    }

    [Fact]
    public async Task A_node_offline_while_versions_were_made_and_a_node_that_joins_later_get_the_whole_history()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2);
        Volume a = cluster[0].Volume!, b = cluster[1].Volume!;
        await a.WriteFileAsync("/f", new MemoryStream([0]), cancellationToken: Ct);
        await Eventually.WaitAsync(() => b.Stat("/f") is not null, TimeSpan.FromSeconds(10), "B has the file", cluster.Dump);
        await cluster[1].Network.SetOffline(true);
        for (byte i = 1; i <= 3; i++)
        {
            await a.WriteFileAsync("/f", new MemoryStream([i]), cancellationToken: Ct);
        }

        await cluster[1].Network.SetOffline(false);
        await Eventually.WaitAsync(() => b.History("/f").Count == 4, TimeSpan.FromSeconds(15), "B has every version A made while it was away", cluster.Dump);
        NexNetNode late = cluster.Add();
        await cluster.WaitForMeshAsync();
        await Eventually.WaitAsync(() => late.Volume!.History("/f").Count == 4, TimeSpan.FromSeconds(15), "a node that joins later has the whole history", cluster.Dump);
        foreach (Volume v in new[] { b, late.Volume! })
        {
            Assert.Equal(a.History("/f").Select(h => (h.Entry.Version, h.ReplacedAt)), v.History("/f").Select(h => (h.Entry.Version, h.ReplacedAt)));
        }
    }

    [Fact]
    public async Task A_file_unchanged_across_100_snapshots_costs_no_chunk_and_no_version()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(1);
        Volume volume = cluster[0].Volume!;
        await volume.WriteFileAsync("/same.bin", new MemoryStream(RandomNumberGenerator.GetBytes(3_000_000)), cancellationToken: Ct);
        int chunks = cluster[0].LocalChunks().Count();
        HistoryTotals before = volume.HistoryTotals();
        for (int i = 0; i < 100; i++)
        {
            volume.CreateSnapshot($"s{i}");
        }

        Assert.Equal(100, volume.Snapshots().Count);
        Assert.Equal(chunks, cluster[0].LocalChunks().Count());
        Assert.Single(volume.History("/same.bin"));
        Assert.Equal(before.Versions, volume.HistoryTotals().Versions);
        Assert.All(volume.Snapshots(), s => Assert.Equal(volume.Stat("/same.bin")!.Version, volume.StatAt("/same.bin", s.At)!.Version));
    }

    [Fact]
    public async Task Past_the_size_cap_the_oldest_versions_go_first_and_a_deletion_shows_where_the_path_came_back()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(1, configure: o =>
        {
            o.HistoryMaxBytes = (5L << 20) / 2; // 2.5 MiB only history keeps
            o.CollectionInterval = TimeSpan.FromHours(1);
        });
        Volume volume = cluster[0].Volume!;
        for (int i = 0; i < 3; i++)
        {
            await volume.WriteFileAsync("/f", new MemoryStream(RandomNumberGenerator.GetBytes(1_500_000)), cancellationToken: Ct);
        }

        Assert.Equal(3, volume.History("/f").Count);
        Assert.Equal(1, cluster[0].PruneHistory()); // 2 x 1.5 MB over the cap: the oldest goes, the other fits
        IReadOnlyList<HistoryVersion> kept = volume.History("/f");
        Assert.Equal(2, kept.Count);
        Assert.True(volume.HistoryTotals().Bytes <= (5L << 20) / 2);

        volume.Delete("/f");
        DateTimeOffset deleted = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > deleted + NexNet.Node.Sync.Tree.Brief, TimeSpan.FromSeconds(10), "a while passes after the deletion");
        await volume.WriteFileAsync("/f", new MemoryStream([1]), cancellationToken: Ct);
        Assert.Equal([HistoryChange.Created, HistoryChange.Content, HistoryChange.Deleted, HistoryChange.Created], volume.History("/f").Select(v => v.Change));
        Assert.Null(volume.History("/f")[2].Device); // the tombstone itself is not kept
    }

    [Fact]
    public async Task A_node_with_no_retention_keeps_no_history()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(1, configure: o => o.HistoryRetention = TimeSpan.Zero);
        Volume volume = cluster[0].Volume!;
        await volume.WriteFileAsync("/f", new MemoryStream([1]), cancellationToken: Ct);
        await volume.WriteFileAsync("/f", new MemoryStream([2]), cancellationToken: Ct);
        Assert.Single(volume.History("/f"));
        Assert.Equal(0, volume.HistoryTotals().Versions);
    }

    [Fact]
    public async Task A_storage_peer_keeps_what_a_collect_notice_names_until_the_retention_passed_and_keeps_it_if_it_is_written_again()
    {
        TimeSpan retention = TimeSpan.FromSeconds(3);
        await using var cluster = new NodeCluster();
        NexNetNode member = cluster.Add(configure: o => o.HistoryRetention = TimeSpan.Zero); // keeps no history: collects at once
        NexNetNode storage = cluster.Add(member: false, configure: o =>
        {
            o.HistoryRetention = retention;
            o.CollectionInterval = TimeSpan.FromHours(1); // collects only when the test says
        });
        await cluster.WaitForMeshAsync();
        byte[] again = RandomNumberGenerator.GetBytes(2_500_000), gone = RandomNumberGenerator.GetBytes(2_500_000);
        EntryInfo first = await member.Volume!.WriteFileAsync("/again.bin", new MemoryStream(again), cancellationToken: Ct);
        EntryInfo other = await member.Volume.WriteFileAsync("/gone.bin", new MemoryStream(gone), cancellationToken: Ct);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(20));
        IReadOnlyList<ChunkId> againIds = first.Content!.Chunks, goneIds = other.Content!.Chunks;
        Assert.Superset(againIds.Concat(goneIds).ToHashSet(), storage.LocalChunks().ToHashSet());

        member.Volume.Delete("/again.bin");
        member.Volume.Delete("/gone.bin");
        Assert.Equal(6, member.CollectGarbage(TimeSpan.Zero));
        DateTimeOffset noticed = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(() => storage.DeferredCollections == 6, TimeSpan.FromSeconds(10), "the storage peer marks the six chunks", cluster.Dump);
        Assert.Equal(0, storage.CollectDeferred());
        Assert.True(DateTimeOffset.UtcNow < noticed + retention, "still inside the retention when checked");
        Assert.Superset(againIds.Concat(goneIds).ToHashSet(), storage.LocalChunks().ToHashSet());

        // The same bytes written again: the storage peer says it lacks them, is sent them, and keeps them.
        await member.Volume.WriteFileAsync("/again-2.bin", new MemoryStream(again), cancellationToken: Ct);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(3, storage.DeferredCollections);

        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > noticed + retention, TimeSpan.FromSeconds(10), "the retention passes");
        Assert.Equal(3, storage.CollectDeferred());
        HashSet<ChunkId> held = storage.LocalChunks().ToHashSet();
        Assert.Superset(againIds.ToHashSet(), held);
        Assert.Empty(held.Intersect(goneIds));
    }

    private static async Task<byte[]> ReadAllAsync(Volume volume, string path) => await ReadAllAsync(volume, volume.Stat(path)!);

    private static async Task<byte[]> ReadAllAsync(Volume volume, EntryInfo file)
    {
        byte[] data = new byte[file.Size];
        int done = 0;
        while (done < data.Length)
        {
            int n = await volume.ReadAsync(file, done, data.AsMemory(done), Ct);
            Assert.True(n > 0);
            done += n;
        }

        return data;
    }
}
