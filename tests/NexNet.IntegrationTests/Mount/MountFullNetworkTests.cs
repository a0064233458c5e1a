using System.Text.RegularExpressions;
using NexNet.Crypto;
using NexNet.IntegrationTests.Cli;
using NexNet.Node;
using NexNet.P2P;

namespace NexNet.IntegrationTests.Mount;

/// <summary>
/// A full disk in a network, for real: node and mount processes, one data directory on a small tmpfs. A
/// full peer refuses pushes and the writer's chunks reach R copies on the others; under pressure a member
/// gives up its copies of history that has R copies elsewhere, keeps the rest, and loses no version.
/// </summary>
[Collection(MountTests.Name)]
public sealed class MountFullNetworkTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;

    private readonly TempDirectory _dir = new();
    private readonly List<NexnetProcess> _processes = [];

    private string Disk => _dir.Combine("disk");

    private string Full => Path.Combine(Disk, "data");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Disk);
        await Shell.RunAsync($"mount -t tmpfs -o size=80m tmpfs '{Disk}'");
    }

    [Fact]
    public async Task A_peer_whose_disk_is_full_refuses_pushes_and_the_writers_chunks_still_reach_R_copies_on_the_other_nodes()
    {
        string w = _dir.Combine("w"), n1 = _dir.Combine("n1"), n2 = _dir.Combine("n2");
        NexnetMountProcess writer = Keep(await NexnetMountProcess.StartAsync(w, _dir.Combine("mnt")));
        foreach (string data in new[] { n1, n2, Full })
        {
            await Nexnet.InitMemberAsync(data, w);
            Keep(await NexnetNodeProcess.StartAsync(data, "--join", writer.Address));
        }

        await WaitForMembersAsync(w, 4);
        long reserve = (long)(await Nexnet.StatusAsync(Full))["space"]!["reserveBytes"]!;
        await Fill(reserve + (MiB / 2)); // room for records, none for a chunk

        string source = _dir.Combine("f.bin");
        await Shell.RunAsync($"head -c {6 * MiB} /dev/urandom > '{source}'");
        HashSet<string> before = await BlobsAsync(w);
        await Shell.RunAsync($"cp '{source}' '{writer.PathOf("f.bin")}'");
        string[] chunks = [.. (await BlobsAsync(w)).Except(before)];
        Assert.Equal(6, chunks.Length);
        await Eventually.WaitAsync(async () => (long)(await Nexnet.StatusAsync(w))["replication"]!["pendingChunks"]! == 0, TimeSpan.FromSeconds(30),
            "the writer's replication drains", () => string.Join('\n', writer.Process.Lines));

        // R is 3: with the full node out of placement, the writer and both others hold every chunk.
        foreach (string data in new[] { n1, n2 })
        {
            Assert.Subset(await BlobsAsync(data), chunks.ToHashSet());
        }

        Assert.Empty(await BlobsAsync(Full));
        Assert.Contains("has no space for chunks: placing chunks on other owners", await LogAsync(w), StringComparison.Ordinal);
        Assert.Contains("refused chunks from", await LogAsync(Full), StringComparison.Ordinal);
        Assert.Equal(0, (long)(await Nexnet.StatusAsync(w))["tree"]!["badChunksRejected"]!); // refusing is not lying: no strike

        // Nothing is lost: the file reads back from another node.
        Nexnet.Result got = await Nexnet.RunAsync("get", "/f.bin", _dir.Combine("back.bin"), "--data", n1);
        Assert.True(got.Exit == 0, got.ToString());
        await Shell.RunAsync($"cmp '{source}' '{_dir.Combine("back.bin")}'");
    }

    [Fact]
    public async Task Under_pressure_a_member_gives_up_copies_of_history_that_are_safe_elsewhere_and_keeps_every_version()
    {
        // R = 1 between two members: each chunk has one owner, so a copy the other owns (and holds) may go from here, one this node owns may not.
        (string, System.Text.Json.Nodes.JsonNode?)[] settings = [("replicationFactor", 1), ("collectionIntervalSeconds", 0.3), ("collectionGraceMinutes", 0.01)];
        await Nexnet.InitAsync(Full, settings);
        NexnetMountProcess mount = Keep(await NexnetMountProcess.StartAsync(Full, _dir.Combine("mnt")));
        string other = _dir.Combine("b");
        await Nexnet.InitMemberAsync(other, Full, settings);
        Keep(await NexnetNodeProcess.StartAsync(other, "--join", mount.Address));
        await WaitForMembersAsync(Full, 2);
        NodeId[] members = [NodeId.Parse((string)(await Nexnet.StatusAsync(Full))["id"]!), NodeId.Parse((string)(await Nexnet.StatusAsync(other))["id"]!)];

        // Files of one chunk each, replaced by small contents (kept inline): history holds the chunks alone.
        // Written until each node owns at least two of them.
        var owned = new Dictionary<string, bool>(); // path -> this node owns its old chunk
        var chunkOf = new Dictionary<string, string>();
        for (int i = 0; i < 40 && (owned.Values.Count(o => o) < 2 || owned.Values.Count(o => !o) < 2); i++)
        {
            string name = $"p{i}", source = _dir.Combine(name);
            await Shell.RunAsync($"head -c {MiB} /dev/urandom > '{source}'");
            HashSet<string> before = await BlobsAsync(Full);
            await Shell.RunAsync($"cp '{source}' '{mount.PathOf(name)}' && echo small > '{mount.PathOf(name)}'");
            string chunk = Assert.Single((await BlobsAsync(Full)).Except(before));
            chunkOf[name] = chunk;
            owned[name] = Placement.Owners(ChunkId.FromBytes(Convert.FromHexString(chunk)), members, 1).Contains(members[0]);
        }

        await Eventually.WaitAsync(async () => (long)(await Nexnet.StatusAsync(Full))["replication"]!["pendingChunks"]! == 0, TimeSpan.FromSeconds(30),
            "the chunks the other node owns reached it");
        await Fill(4 * MiB);

        // The copies the other node holds go (as cached copies, or as copies of history it proved it holds); those only this node holds stay.
        await Eventually.WaitAsync(async () => !(await BlobsAsync(Full)).Overlaps(chunkOf.Where(p => !owned[p.Key]).Select(p => p.Value)), TimeSpan.FromSeconds(10),
            "the copies safe elsewhere are given up", () => string.Join('\n', mount.Process.Lines));
        Assert.Subset(await BlobsAsync(Full), chunkOf.Where(p => owned[p.Key]).Select(p => p.Value).ToHashSet());
        Assert.True((bool)(await Nexnet.StatusAsync(Full))["space"]!["pressure"]!);
        string[] said = [.. (await LogAsync(Full)).Split('\n').Where(l => l.Contains(" space: ", StringComparison.Ordinal))];
        Assert.Contains(said, l => Regex.IsMatch(l, @"gave up \d+ cached copies \(\d+ bytes\) and the 0 oldest versions of history"));
        Assert.DoesNotContain(said, l => Regex.IsMatch(l, @"the [1-9]\d* oldest versions of history")); // in a network, no version goes
        Assert.Contains(said, l => l.Contains("copies of history", StringComparison.Ordinal) && l.Contains("that 1 other nodes proved they hold", StringComparison.Ordinal));

        // No version is lost: each old content reads back, from here or from the other node (read through, not kept: there is no room).
        foreach (string name in chunkOf.Keys)
        {
            Assert.Equal(2, await Nexnet.HistoryCountAsync(Full, $"/{name}"));
            Nexnet.Result got = await Nexnet.RunAsync("get", $"/{name}", _dir.Combine($"{name}.back"), "--version", "1", "--data", Full);
            Assert.True(got.Exit == 0, got.ToString());
            await Shell.RunAsync($"cmp '{_dir.Combine(name)}' '{_dir.Combine($"{name}.back")}'");
        }

        Assert.False((await BlobsAsync(Full)).Overlaps(chunkOf.Where(p => !owned[p.Key]).Select(p => p.Value)));
    }

    private T Keep<T>(T process)
        where T : NexnetProcess
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>Fills the small disk with a ballast file until <paramref name="left"/> bytes are free.</summary>
    private async Task Fill(long left) =>
        await Shell.RunAsync($"fallocate -l {new DriveInfo(Disk).AvailableFreeSpace - left} '{Path.Combine(Disk, "ballast")}'");

    private static Task WaitForMembersAsync(string data, int count) =>
        Eventually.WaitAsync(async () => (int)(await Nexnet.StatusAsync(data))["members"]! == count, TimeSpan.FromSeconds(30), $"{count} members");

    /// <summary>The chunks a node stores (its blob index, read with sqlite3 while it runs), in lower-case hex.</summary>
    private static async Task<HashSet<string>> BlobsAsync(string data) =>
        [.. (await Shell.RunAsync($"sqlite3 -readonly '{Path.Combine(data, "meta.db")}' 'SELECT lower(hex(id)) FROM blobs'"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static Task<string> LogAsync(string data) => File.ReadAllTextAsync(Path.Combine(data, "logs", "nexnet.log"), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        Exception? first = null;
        for (int i = _processes.Count - 1; i >= 0; i--)
        {
            try
            {
                await _processes[i].DisposeAsync(); // fails unless its process stopped cleanly; the others still stop
            }
            catch (Exception e) when (first is null)
            {
                first = e;
            }
        }

        await Shell.RunAsync($"umount -l '{Disk}' || true");
        _dir.Dispose();
        if (first is not null)
        {
            throw first;
        }
    }
}
