using System.Globalization;
using System.Text.Json.Nodes;
using NexNet.IntegrationTests.Cli;

namespace NexNet.IntegrationTests.Mount;

/// <summary>
/// History through real mounts and real tools: an <c>rm -rf</c> on one machine undone from another, an
/// overwrite by <c>cp</c> kept, and the past browsable (read-only) in the mount's <c>.snapshots</c> and in a <c>mount --at</c>.
/// </summary>
[Collection(MountTests.Name)]
public sealed class MountHistoryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_rm_rf_of_1000_files_on_A_is_restored_from_B_byte_for_byte_with_modes_and_times_and_the_snapshot_view_shows_it_read_only()
    {
        string saved = _dir.Combine("saved");
        // 1,000 files in 20 directories: most small (inline in their records), every tenth 40 KiB (chunks); various modes and times.
        await Shell.RunAsync($"""
            set -e
            for d in $(seq 0 19); do mkdir -p '{saved}'/d$d; done
            for i in $(seq 0 999); do
              f='{saved}'/d$((i % 20))/f$i
              if [ $((i % 10)) -eq 0 ]; then head -c 40000 /dev/urandom > "$f"; else head -c $((i % 300 + 1)) /dev/urandom > "$f"; fi
            done
            cd '{saved}'
            find . -type f -name 'f*3' -exec chmod 600 {"{}"} +
            find . -type f -name 'f*7' -exec chmod 755 {"{}"} +
            find . -type f -name 'f*5' -exec touch -d '2021-03-04 05:06:07.123456789' {"{}"} +
            """, TimeSpan.FromSeconds(120));

        (NexnetMountProcess a, NexnetMountProcess b) = await TwoMountsAsync();
        await using (a)
        await using (b)
        {
            await Shell.RunAsync($"cp -a '{saved}' '{a.PathOf("tree")}'", TimeSpan.FromSeconds(120));
            await Eventually.WaitAsync(() => CountFiles(b.PathOf("tree")) == 1000, TimeSpan.FromSeconds(60), "B lists the 1,000 files");
            await Shell.RunAsync($"diff -r '{saved}' '{b.PathOf("tree")}'", TimeSpan.FromSeconds(120)); // nothing half-arrived: B reads them all

            // An overwrite by cp on A: B's history holds both, the old one restorable by number.
            long oldSize = new FileInfo(Path.Combine(saved, "d1", "f21")).Length;
            await Shell.RunAsync($"printf 'new contents' > '{_dir.Combine("new")}' && cp '{_dir.Combine("new")}' '{a.PathOf("tree/d1/f21")}' && cp '{_dir.Combine("new")}' '{saved}/d1/f21'");
            JsonArray versions = await HistoryAsync(b, "/tree/d1/f21", expected: 2);
            Assert.Equal(oldSize, (long)versions[0]!["size"]!);
            Assert.Equal(12, (long)versions[1]!["size"]!);
            Assert.Equal("content", (string?)versions[1]!["change"]);
            Assert.Equal((await NodeIdAsync(a)), (string?)versions[1]!["device"]);

            Nexnet.Result snapshot = await Nexnet.RunAsync("snapshot", "create", "before-rm", "--data", a.DataDirectory);
            Assert.True(snapshot.Exit == 0, snapshot.ToString());
            DateTimeOffset beforeRemoval = DateTimeOffset.UtcNow;
            await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > beforeRemoval.AddMilliseconds(2), TimeSpan.FromSeconds(5), "the clock moves past the moment to restore");

            await Shell.RunAsync($"rm -rf '{a.PathOf("tree")}'", TimeSpan.FromSeconds(120));
            await Eventually.WaitAsync(() => !Directory.Exists(b.PathOf("tree")), TimeSpan.FromSeconds(30), "B sees the tree gone");
            Nexnet.Result trash = await Nexnet.RunAsync("trash", "/tree", "--json", "--data", b.DataDirectory);
            Assert.True(trash.Exit == 0, trash.ToString());
            Assert.Equal(1000, ((JsonArray)JsonNode.Parse(trash.Stdout)!).Count(e => (string?)e!["kind"] == "file"));

            Nexnet.Result restore = await Nexnet.RunAsync("restore", "/tree", "-r", "--at", beforeRemoval.ToString("O", CultureInfo.InvariantCulture), "--data", b.DataDirectory);
            Assert.True(restore.Exit == 0, restore.ToString());
            foreach (NexnetMountProcess mount in new[] { b, a })
            {
                await Eventually.WaitAsync(() => CountFiles(mount.PathOf("tree")) == 1000, TimeSpan.FromSeconds(60), $"{mount.Mountpoint} lists the restored files");
                await AssertSameTreeAsync(saved, mount.PathOf("tree"), expectNewer: "d1/f21");
            }

            // The snapshot, in the mount: not listed, reachable by name, the tree as it was, read-only.
            Assert.DoesNotContain(".snapshots", await Shell.RunAsync($"ls -a '{a.Mountpoint}'"), StringComparison.Ordinal);
            string view = a.PathOf(".snapshots/before-rm/tree");
            Assert.Contains("before-rm", await Shell.RunAsync($"ls '{a.PathOf(".snapshots")}'"), StringComparison.Ordinal);
            await AssertSameTreeAsync(saved, view, expectNewer: "d1/f21");
            Assert.Equal("new contents", await File.ReadAllTextAsync(Path.Combine(view, "d1", "f21"), Ct));
            string refused = await Shell.RunAsync(
                $"(touch '{view}/d0/new') 2>&1 || true; (echo x >> '{view}/d0/f0') 2>&1 || true; (rm '{view}/d0/f0') 2>&1 || true; (mkdir '{view}/dd') 2>&1 || true");
            Assert.Equal(4, refused.Split('\n').Count(l => l.Contains("Read-only file system", StringComparison.Ordinal)));
            Assert.True(File.Exists(Path.Combine(view, "d0", "f0")));
        }
    }

    [Fact]
    public async Task A_mount_at_a_time_shows_the_volume_as_it_was_and_refuses_writes()
    {
        string data = _dir.Combine("data");
        await using NexnetMountProcess live = await NexnetMountProcess.StartAsync(data, _dir.Combine("live"));
        await File.WriteAllTextAsync(live.PathOf("note.txt"), "first", Ct);
        Directory.CreateDirectory(live.PathOf("dir"));
        await File.WriteAllTextAsync(live.PathOf("dir/kept.txt"), "kept", Ct);
        DateTimeOffset then = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > then.AddMilliseconds(2), TimeSpan.FromSeconds(5), "the clock moves past the moment");
        await File.WriteAllTextAsync(live.PathOf("note.txt"), "second", Ct);
        File.Delete(live.PathOf("dir/kept.txt"));

        string past = _dir.Combine("past");
        Directory.CreateDirectory(past);
        Nexnet.Result mounted = await Nexnet.RunAsync("mount", past, "--at", then.ToString("O", CultureInfo.InvariantCulture), "--data", data);
        Assert.True(mounted.Exit == 0, mounted.ToString());
        try
        {
            Assert.Equal("first", await File.ReadAllTextAsync(Path.Combine(past, "note.txt"), Ct));
            Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(past, "dir", "kept.txt"), Ct));
            Assert.Contains("Read-only file system", await Shell.RunAsync($"(echo x > '{past}/note.txt') 2>&1 || true"), StringComparison.Ordinal);
            Assert.Equal("second", await File.ReadAllTextAsync(live.PathOf("note.txt"), Ct));
        }
        finally
        {
            Nexnet.Result unmounted = await Nexnet.RunAsync("unmount", past);
            Assert.True(unmounted.Exit == 0, unmounted.ToString());
        }

        Assert.False(NexnetMountProcess.IsMounted(past));
    }

    [Fact]
    public async Task The_steps_of_one_save_are_not_versions_but_every_save_is()
    {
        string data = _dir.Combine("data");
        await using NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, _dir.Combine("mnt"));
        // Three saves by the shell (each a create or O_TRUNC, then the bytes), then a time set at once, as cp -p and tar do.
        await Shell.RunAsync($"cd '{mount.Mountpoint}' && echo one > f && echo two > f && echo three > f && touch -d '2020-01-02 03:04:05' f");
        JsonArray versions = await HistoryAsync(mount, "/f", expected: 3);
        Assert.Equal(["created", "content", "content"], versions.Select(v => (string?)v!["change"]));
        Assert.Equal([4L, 4L, 6L], versions.Select(v => (long)v!["size"]!));
        Assert.StartsWith("2020-01-02T03:04:05", (string?)versions[2]!["modified"], StringComparison.Ordinal); // the last save, with the time tar set
        Assert.Equal("one\n", await GetVersionAsync(mount, "/f", 1));
        Assert.Equal("two\n", await GetVersionAsync(mount, "/f", 2));
    }

    private static async Task<string> GetVersionAsync(NexnetProcess node, string path, int version)
    {
        Nexnet.Result got = await Nexnet.RunAsync("get", path, "-", "--version", version.ToString(CultureInfo.InvariantCulture), "--data", node.DataDirectory);
        Assert.True(got.Exit == 0, got.ToString());
        return got.Stdout + "\n";
    }

    private async Task<(NexnetMountProcess A, NexnetMountProcess B)> TwoMountsAsync()
    {
        string dataA = _dir.Combine("data-a"), dataB = _dir.Combine("data-b");
        NexnetMountProcess a = await NexnetMountProcess.StartAsync(dataA, _dir.Combine("a"));
        Directory.CreateDirectory(dataB);
        foreach (string key in new[] { "network.key", "volume.key" })
        {
            File.Copy(Path.Combine(dataA, key), Path.Combine(dataB, key));
        }

        NexnetMountProcess b = await NexnetMountProcess.StartAsync(dataB, _dir.Combine("b"), "--join", a.Address);
        await File.WriteAllTextAsync(a.PathOf("hello.txt"), "hello", Ct);
        await Eventually.WaitAsync(() => File.Exists(b.PathOf("hello.txt")), TimeSpan.FromSeconds(30), "the nodes are connected");
        return (a, b);
    }

    private static async Task<JsonArray> HistoryAsync(NexnetProcess node, string path, int expected)
    {
        JsonArray versions = [];
        await Eventually.WaitAsync(async () =>
        {
            Nexnet.Result history = await Nexnet.RunAsync("history", path, "--json", "--data", node.DataDirectory);
            versions = history.Exit == 0 ? (JsonArray)JsonNode.Parse(history.Stdout)! : [];
            return versions.Count == expected;
        }, TimeSpan.FromSeconds(10), $"{node.DataDirectory} holds {expected} versions of {path}");
        return versions;
    }

    private static async Task<string> NodeIdAsync(NexnetProcess node) =>
        (string)JsonNode.Parse((await Nexnet.RunAsync("status", "--json", "--data", node.DataDirectory)).Stdout)!["id"]!;

    private static int CountFiles(string directory) => Directory.Exists(directory) ? Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Length : 0;

    /// <summary>Same bytes (diff -r is silent), and every file's mode and mtime (stat, to 100 ns) equal, but for <paramref name="expectNewer"/>'s time (overwritten by cp on both sides).</summary>
    private static async Task AssertSameTreeAsync(string expected, string actual, string expectNewer)
    {
        Assert.Equal("", await Shell.RunAsync($"diff -r '{expected}' '{actual}'", TimeSpan.FromSeconds(120)));
        // Times to 100 ns, the precision the volume keeps them at (as .NET's DateTimeOffset).
        string Stats(string root) => $"cd '{root}' && find . -type f ! -path './{expectNewer}' -printf '%P %m %T@\\n' | sed -E 's/([0-9]+[.][0-9]{{7}})[0-9]*$/\\1/' | sort";
        string want = await Shell.RunAsync(Stats(expected));
        Assert.Equal(999, want.Split('\n').Length);
        Assert.Equal(want, await Shell.RunAsync(Stats(actual)));
    }

    public void Dispose() => _dir.Dispose();
}
