using System.Text.Json.Nodes;
using NexNet.IntegrationTests.Cli;

namespace NexNet.IntegrationTests.Mount;

/// <summary>
/// A full disk, for real: the data directory on a small tmpfs, a real mount, real cp. A failed copy gives
/// its space back at once; files already open still commit while the store is full; under pressure
/// history yields, oldest first; nothing closed before is lost.
/// </summary>
[Collection(MountTests.Name)]
public sealed class MountFullDiskTests : IAsyncLifetime
{
    private const long MiB = 1 << 20;

    private readonly TempDirectory _dir = new();

    private string Disk => _dir.Combine("disk");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Disk);
        await Shell.RunAsync($"mount -t tmpfs -o size=80m tmpfs '{Disk}'");
    }

    [Fact]
    public async Task A_copy_that_fills_the_disk_fails_with_ENOSPC_gives_its_space_back_within_2_s_and_loses_nothing()
    {
        string data = Path.Combine(Disk, "data");
        await using NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, _dir.Combine("mnt"));
        string keep = _dir.Combine("keep.bin"), big = _dir.Combine("big.bin");
        await Shell.RunAsync($"head -c {20 * MiB} /dev/urandom > '{keep}' && head -c {100 * MiB} /dev/urandom > '{big}'");
        await Shell.RunAsync($"cp '{keep}' '{mount.PathOf("keep.bin")}' && echo small > '{mount.PathOf("small.txt")}'");
        long freeBefore = Free();

        string failed = await Shell.RunAsync($"cp '{big}' '{mount.PathOf("big.bin")}' 2>&1 || echo EXIT=$?");
        Assert.Contains("No space left on device", failed, StringComparison.Ordinal);
        Assert.Contains("EXIT=", failed, StringComparison.Ordinal);
        await Eventually.WaitAsync(() => Free() >= freeBefore - (2 * MiB), TimeSpan.FromSeconds(2), $"the failed copy's space comes back (free {freeBefore} before it)",
            () => $"free now {Free()}\n{string.Join('\n', mount.Process.Lines)}");

        await Shell.RunAsync($"echo 'a new small file' > '{mount.PathOf("new.txt")}' && head -c {3 * MiB} /dev/urandom > '{_dir.Combine("three.bin")}' && cp '{_dir.Combine("three.bin")}' '{mount.PathOf("three.bin")}'");
        Assert.Equal("a new small file\n", await File.ReadAllTextAsync(mount.PathOf("new.txt"), Ct));
        await Shell.RunAsync($"cmp '{keep}' '{mount.PathOf("keep.bin")}' && cmp '{_dir.Combine("three.bin")}' '{mount.PathOf("three.bin")}'");
        Assert.Equal("small\n", await File.ReadAllTextAsync(mount.PathOf("small.txt"), Ct));

        // statfs says what chunks may still take: the free space less the reserve.
        JsonObject space = (JsonObject)(await Nexnet.StatusAsync(data))["space"]!;
        long reserve = (long)space["reserveBytes"]!;
        Assert.Equal(8 * MiB, reserve); // a tenth of 80 MiB, at least 8 MiB
        long available = long.Parse(await Shell.RunAsync($"echo $(( $(stat -f -c '%a' '{mount.Mountpoint}') * $(stat -f -c '%S' '{mount.Mountpoint}') ))"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(available, Free() - reserve - (2 * MiB), Free() - reserve + (2 * MiB));
    }

    [Fact]
    public async Task Files_already_open_commit_while_the_store_is_full_and_under_pressure_the_oldest_history_goes_first()
    {
        string data = Path.Combine(Disk, "data");
        await Nexnet.InitAsync(data, ("collectionIntervalSeconds", 0.3));
        await using NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, _dir.Combine("mnt"));

        // History holds two contents of a, b and c (5 MiB each): first a1, b1, c1 were replaced, then a2, b2, c2.
        foreach (string content in new[] { "1", "2" })
        {
            foreach (string name in new[] { "a", "b", "c" })
            {
                await Shell.RunAsync($"head -c {5 * MiB} /dev/urandom > '{mount.PathOf(name)}'");
            }
        }

        foreach (string name in new[] { "a", "b", "c" })
        {
            await Shell.RunAsync($"echo 'now small' > '{mount.PathOf(name)}'");
        }

        foreach (string path in new[] { "/a", "/b", "/c" })
        {
            Assert.Equal(3, await Nexnet.HistoryCountAsync(data, path));
        }

        // A file held open across the disk filling up (outside the store: a ballast file on the same disk).
        using ChildProcess writer = ChildProcess.Start("bash", "-c", $"exec 3> '{mount.PathOf("open.txt")}'; echo before >&3; read _; echo after >&3; exec 3>&-; echo closed")
            .StartCollecting();
        await Eventually.WaitAsync(() => File.Exists(mount.PathOf("open.txt")), TimeSpan.FromSeconds(10), "the writer has its file open");
        long line = 2 * (long)(await Nexnet.StatusAsync(data))["space"]!["reserveBytes"]!;
        long ballast = Free() - line + (7 * MiB); // 7 MiB below the pressure line: a1 and b1 must go, c1 may stay
        await Shell.RunAsync($"fallocate -l {ballast} '{Path.Combine(Disk, "ballast")}'");

        // Under pressure: the oldest history goes until the node is above the line, and it says so.
        await Eventually.WaitAsync(async () => await Nexnet.HistoryCountAsync(data, "/b") == 2, TimeSpan.FromSeconds(10), "the node gives up the oldest history",
            () => string.Join('\n', mount.Process.Lines));
        Assert.Equal(2, await Nexnet.HistoryCountAsync(data, "/a"));
        Assert.Equal(3, await Nexnet.HistoryCountAsync(data, "/c")); // younger history stays: the oldest two were enough
        string log = await File.ReadAllTextAsync(Path.Combine(data, "logs", "nexnet.log"), Ct);
        Assert.Matches(@"space: \d+ bytes free, below the \d+-byte line: deleted \d+ bytes nothing referenced, gave up 0 cached copies \(0 bytes\) and the 2 oldest versions of history \(\d+ bytes", log);

        // Further below the line (12 MiB short), three more versions must go: c1, then a2 and b2. c2 stays.
        await Shell.RunAsync($"fallocate -l {Free() - (4 * MiB)} '{Path.Combine(Disk, "ballast1")}'");
        await Eventually.WaitAsync(async () => await Nexnet.HistoryCountAsync(data, "/b") == 1, TimeSpan.FromSeconds(10), "a2 and b2 go too",
            () => string.Join('\n', mount.Process.Lines));
        int[] left = [await Nexnet.HistoryCountAsync(data, "/a"), await Nexnet.HistoryCountAsync(data, "/b"), await Nexnet.HistoryCountAsync(data, "/c")];
        Assert.Equal([1, 1, 2], left);
        Nexnet.Result c2 = await Nexnet.RunAsync("get", "/c", _dir.Combine("c2"), "--version", "1", "--data", data);
        Assert.True(c2.Exit == 0, c2.ToString());
        Assert.Equal(5 * MiB, new FileInfo(_dir.Combine("c2")).Length);
        File.Delete(Path.Combine(Disk, "ballast1"));

        // The store is full for chunks, but a commit of a file already open needs none: it succeeds.
        await Shell.RunAsync($"fallocate -l {Free() - (4 * MiB)} '{Path.Combine(Disk, "ballast2")}'");
        string refused = await Shell.RunAsync($"(head -c {3 * MiB} /dev/urandom > '{mount.PathOf("refused.bin")}') 2>&1 || echo EXIT=$?");
        Assert.Contains("No space left on device", refused, StringComparison.Ordinal);
        JsonObject space = (JsonObject)(await Nexnet.StatusAsync(data))["space"]!;
        Assert.True((bool)space["pressure"]!, space.ToJsonString());
        writer.WriteLine("go");
        await writer.WaitForLineAsync(l => l == "closed", TimeSpan.FromSeconds(10), "the writer closes its file");
        Assert.Equal("before\nafter\n", await File.ReadAllTextAsync(mount.PathOf("open.txt"), Ct));

        File.Delete(Path.Combine(Disk, "ballast"));
        File.Delete(Path.Combine(Disk, "ballast2"));
        Assert.Equal("now small\n", await File.ReadAllTextAsync(mount.PathOf("c"), Ct));
    }

    /// <summary>Without history the deleted file's chunks go at once; with it (a node alone), space pressure prunes the version that keeps them.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    public async Task On_a_full_node_a_deleted_files_space_comes_back_at_once_and_a_new_file_saves(int historyDays)
    {
        string data = Path.Combine(Disk, "data");
        await Nexnet.InitAsync(data, ("historyDays", historyDays));
        await using NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, _dir.Combine("mnt"));
        string big = _dir.Combine("big.bin"), next = _dir.Combine("next.bin");
        await Shell.RunAsync($"head -c {30 * MiB} /dev/urandom > '{big}' && head -c {10 * MiB} /dev/urandom > '{next}' && cp '{big}' '{mount.PathOf("big.bin")}'");
        await Shell.RunAsync($"fallocate -l {Free() - (9 * MiB)} '{Path.Combine(Disk, "ballast")}'"); // full for chunks: 9 MiB free, 8 kept
        Assert.Contains("No space left on device", await Shell.RunAsync($"cp '{next}' '{mount.PathOf("next.bin")}' 2>&1 || true"), StringComparison.Ordinal);

        File.Delete(mount.PathOf("big.bin"));
        await Eventually.WaitAsync(async () => (await Shell.RunAsync($"cp '{next}' '{mount.PathOf("next.bin")}' 2>&1 && echo saved || true")).EndsWith("saved", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5), "a new file saves once the deleted one's space is back", () => $"free {Free()}");
        await Shell.RunAsync($"cmp '{next}' '{mount.PathOf("next.bin")}'");
    }

    private long Free() => new DriveInfo(Disk).AvailableFreeSpace;

    public async ValueTask DisposeAsync()
    {
        await Shell.RunAsync($"umount -l '{Disk}' || true");
        _dir.Dispose();
    }
}
