using System.Text;

namespace NexNet.IntegrationTests.Node;

/// <summary>Node processes on loopback: the tree reaches every node, late or not, concurrent edits leave a conflict copy, storage peers learn nothing.</summary>
[Collection(NodeProcessTests.Name)]
public sealed class TreeSyncTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public async Task A_node_that_joins_after_the_writes_gets_the_whole_tree_and_reads_every_file()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(3);
        var files = Enumerable.Range(0, 30).Select(i => (Path: $"/d{i % 3}/sub{i % 2}/f{i}", Size: (i * 97_000L) + 1, Seed: (ulong)(500 + i))).ToList();
        await ReplicationTests.ForEachAsync(files.Select((f, i) => (f, i)), 6, x => cluster[x.i % 2].RunAsync($"gen {x.f.Path} {x.f.Size} {x.f.Seed}"));
        await cluster[0].RunAsync("rm /d0/sub0/f0");
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(60));

        HostedFullNode late = await cluster.AddAsync("Late");
        await cluster.WaitAllAsync(async n => n != late || (await n.RunAsync("stat /d2/sub1/f29")) != "none", TimeSpan.FromSeconds(30), "the late node sees the last file");
        Assert.Equal("none", await late.RunAsync("stat /d0/sub0/f0"));
        foreach ((string path, long size, ulong seed) in files.Skip(1))
        {
            await late.RunAsync($"check {path} {size} {seed}");
        }

        Assert.Equal("sub0|sub1", await late.RunAsync("ls /d1"));
    }

    [Fact]
    public async Task Eight_writers_on_three_nodes_leave_all_400_files_readable_on_every_node()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(3);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                await cluster[w % 3].RunAsync($"gen /w{w}/f{i} {Size(w, i)} {Seed(w, i)}");
            }
        })));

        await cluster.WaitAllAsync(async n =>
        {
            for (int w = 0; w < 8; w++)
            {
                if ((await n.RunAsync($"ls /w{w}")).Split('|').Length != 50)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(60), "every node lists 8 x 50 files");

        foreach (HostedFullNode node in cluster.Nodes)
        {
            await ReplicationTests.ForEachAsync(Enumerable.Range(0, 400), 16, k => node.RunAsync($"check /w{k / 50}/f{k % 50} {Size(k / 50, k % 50)} {Seed(k / 50, k % 50)}"));
        }

        static long Size(int w, int i) => 1 + ((w * 50 + i) * 7919 % (300 * 1024));
        static ulong Seed(int w, int i) => (ulong)(10_000 + w * 50 + i);
    }

    [Fact]
    public async Task Two_nodes_writing_one_path_apart_leave_one_winner_and_one_conflict_copy_everywhere()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(3);
        HostedFullNode a = cluster[0], b = cluster[1];
        await a.RunAsync("gen /notes/plan.txt 1000 1");
        await cluster.WaitAllAsync(async n => (await n.RunAsync("stat /notes/plan.txt")) == "File 1000", TimeSpan.FromSeconds(20), "the first version is everywhere");

        // A edits while cut off; B edits the same file meanwhile; then A comes back.
        await a.RunAsync("offline");
        await a.RunAsync("gen /notes/plan.txt 3000 2");
        await b.RunAsync("gen /notes/plan.txt 5000 3");
        await a.RunAsync("online");

        await cluster.WaitAllAsync(async n => (await n.RunAsync("ls /notes")).Split('|').Length == 2, TimeSpan.FromSeconds(30), "every node lists the winner and one conflict copy");
        foreach (HostedFullNode node in cluster.Nodes)
        {
            string[] names = (await node.RunAsync("ls /notes")).Split('|');
            Assert.Contains("plan.txt", names);
            string copy = Assert.Single(names, n => n.StartsWith("plan.conflict-", StringComparison.Ordinal) && n.EndsWith(".txt", StringComparison.Ordinal));
            bool aLost = copy.Contains(a.Id[..8], StringComparison.Ordinal);
            Assert.True(aLost || copy.Contains(b.Id[..8], StringComparison.Ordinal), copy);
            (long winSize, int winSeed, long loseSize, int loseSeed) = aLost ? (5000L, 3, 3000L, 2) : (3000L, 2, 5000L, 3);
            await node.RunAsync($"check /notes/plan.txt {winSize} {winSeed}");
            await node.RunAsync($"check /notes/{copy} {loseSize} {loseSeed}");
        }
    }

    [Fact]
    public async Task A_storage_peer_holds_chunks_and_records_but_no_plaintext()
    {
        using var cluster = new HostedFullNodeCluster { ReplicationFactor = 4 };
        await cluster.AddAsync("A");
        await cluster.AddAsync("B");
        HostedFullNode storage = await cluster.AddAsync("S", member: false);
        await cluster.WaitForMeshAsync();

        const string Marker = "NEXNET-PLAINTEXT-MARKER-7f3a9c";
        using var local = new TempDirectory();
        string source = local.Combine("secret.txt");
        await File.WriteAllTextAsync(source, string.Concat(Enumerable.Repeat(Marker + " is in this file. ", 200_000)), TestContext.Current.CancellationToken);
        await cluster[0].RunAsync($"put /{Marker}/secret-{Marker}.txt {source}");
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(60));
        await cluster.WaitAllAsync(async n => (await n.StatusAsync())["records"] == 2, TimeSpan.FromSeconds(20), "every node keeps both records (directory and file)");

        // The text repeats, so its chunks deduplicate: the storage peer (an owner of everything, R = 3 of 3) holds as many as a member.
        Dictionary<string, long> status = await storage.StatusAsync();
        Assert.True(status["blobs"] >= 3, $"storage peer holds {status["blobs"]} chunks");
        Assert.Equal((await cluster[0].StatusAsync())["blobs"], status["blobs"]);
        Assert.Equal(0, status["entries"]);

        // Its data dir after a clean stop (WAL folded in), and while running, never holds the marker.
        byte[] marker = Encoding.UTF8.GetBytes(Marker);
        Assert.Empty(FilesContaining(storage.Dir.Path, marker));
        storage.Process.CloseStandardInput();
        await storage.Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Empty(FilesContaining(storage.Dir.Path, marker));
        Assert.False(File.Exists(storage.Dir.Combine("volume.key")));

        // Members hold no plaintext on disk either: their entry index is sealed too.
        Assert.Empty(FilesContaining(cluster[0].Dir.Path, marker));

        // The scan finds the marker where it is (the checks above cannot pass by looking the wrong way).
        Assert.NotEmpty(FilesContaining(local.Path, marker));
    }

    [Fact]
    public async Task Deleting_a_file_removes_exactly_its_unshared_chunks_on_every_node_after_collection()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(3);
        using var local = new TempDirectory();
        byte[] shared = Pattern(MiB, 1);
        string keep = local.Combine("keep"), gone = local.Combine("gone");
        await File.WriteAllBytesAsync(keep, [.. shared, .. Pattern(2 * MiB, 2)], TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(gone, [.. shared, .. Pattern(2 * MiB + 5, 3)], TestContext.Current.CancellationToken);
        await cluster[0].RunAsync($"put /keep {keep}");
        await cluster[1].RunAsync($"put /gone {gone}");
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(60));
        await cluster.WaitAllAsync(async n => (await n.RunAsync("stat /gone")) != "none", TimeSpan.FromSeconds(20), "every node sees /gone");

        string[] keepChunks = (await cluster[0].RunAsync("file-chunks /keep")).Split(' ');
        string[] goneChunks = (await cluster[0].RunAsync("file-chunks /gone")).Split(' ');
        Assert.Equal(keepChunks[0], goneChunks[0]);
        string[] unshared = [.. goneChunks.Except(keepChunks)];
        Assert.Equal(3, unshared.Length); // 2 MiB + 5 bytes of its own
        var before = new Dictionary<HostedFullNode, HashSet<string>>();
        foreach (HostedFullNode node in cluster.Nodes)
        {
            before[node] = await node.ChunksAsync();
            Assert.Superset(goneChunks.ToHashSet(), before[node]);
        }

        await cluster[2].RunAsync("rm /gone");
        await cluster.WaitAllAsync(async n => (await n.RunAsync("stat /gone")) == "none", TimeSpan.FromSeconds(20), "the tombstone reaches every node");
        foreach (HostedFullNode node in cluster.Nodes)
        {
            await node.RunAsync("collect");
        }

        foreach (HostedFullNode node in cluster.Nodes)
        {
            HashSet<string> after = await node.ChunksAsync();
            Assert.Equal(before[node].Except(unshared).ToHashSet(), after);
            await node.RunAsync($"get /keep {local.Combine("keep-" + node.Name)}");
            Assert.Equal(await File.ReadAllBytesAsync(keep, TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(local.Combine("keep-" + node.Name), TestContext.Current.CancellationToken));
        }
    }

    private static byte[] Pattern(long length, ulong seed)
    {
        byte[] bytes = new byte[length];
        PatternStream.Fill(seed, 0, bytes);
        return bytes;
    }

    private static List<string> FilesContaining(string directory, byte[] needle) =>
        [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Where(f => File.ReadAllBytes(f).AsSpan().IndexOf(needle) >= 0)];
}
