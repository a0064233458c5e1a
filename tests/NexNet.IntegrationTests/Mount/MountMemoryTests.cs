using System.Globalization;

namespace NexNet.IntegrationTests.Mount;

/// <summary>The mount's memory, as the kernel counts it (VmRSS, VmHWM of the nexnet process): bounded per open file and while 4 GiB is copied in.</summary>
[Collection(MountTests.Name)]
public sealed class MountMemoryTests : IDisposable
{
    private const long MiB = 1024;
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Files_held_open_while_written_cost_at_most_7_MiB_of_RSS_each()
    {
        await using NexnetMountProcess mount = await NexnetMountProcess.StartAsync(_dir.Combine("data"), _dir.Combine("mnt"));
        await File.WriteAllTextAsync(mount.PathOf("warm"), "warm", TestContext.Current.CancellationToken); // the write path's pools exist before the baseline
        long idle = Kib(mount, "VmRSS");

        // 24 files open at once, 16 MiB written to each before any is closed; VmHWM keeps the peak. docs/mount.md:
        // <= 6 MiB of chunk buffers per open file (4 edited, 2 being sealed); with the sealing's ciphertext and
        // the allocator, RSS grew 6.6 MiB per file here (68 to 227 MiB), so the bound is 7 MiB each.
        const int Files = 24;
        string output = await Shell.RunAsync($$"""
            cd '{{mount.Mountpoint}}'
            python3 - <<'PY'
            import os
            files = [open(f"open-{i}.bin", "wb") for i in range({{Files}})]
            block = os.urandom(1 << 20)
            for mib in range(16):
                for i, f in enumerate(files):
                    f.write(bytes([mib, i]) + block[2:])
                    f.flush()
            print("held", len(files))
            for f in files: f.close()
            PY
            """, TimeSpan.FromMinutes(3));
        Assert.Equal($"held {Files}", output);
        long peak = Kib(mount, "VmHWM");
        Assert.True(peak - idle <= Files * 7 * MiB, $"{Files} open files took the mount from {idle / MiB} MiB to a peak of {peak / MiB} MiB ({(peak - idle) / Files} KiB each)");
        Assert.Equal(16L << 20, new FileInfo(mount.PathOf("open-23.bin")).Length);
    }

    [Fact]
    public async Task Copying_4_GiB_in_keeps_the_mount_under_200_MiB()
    {
        await using NexnetMountProcess mount = await NexnetMountProcess.StartAsync(_dir.Combine("data"), _dir.Combine("mnt"));
        await Shell.RunAsync($"head -c 4G /dev/urandom > '{mount.PathOf("big.bin")}'", TimeSpan.FromMinutes(10));
        long peak = Kib(mount, "VmHWM");
        Assert.True(peak < 200 * MiB, $"the mount's peak RSS was {peak / MiB} MiB while 4 GiB was copied in");
        Assert.Equal(4L << 30, new FileInfo(mount.PathOf("big.bin")).Length);
    }

    private static long Kib(NexnetMountProcess mount, string field) =>
        long.Parse(File.ReadLines($"/proc/{mount.Process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    public void Dispose() => _dir.Dispose();
}
