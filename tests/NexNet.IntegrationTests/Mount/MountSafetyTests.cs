using System.Text;

namespace NexNet.IntegrationTests.Mount;

/// <summary>Nothing plaintext on disk, a killed mount leaves a usable mountpoint and intact files, and mount errors say what to do.</summary>
[Collection(MountTests.Name)]
public sealed class MountSafetyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task A_marker_written_through_the_mount_appears_nowhere_in_the_data_dir()
    {
        const string Marker = "NEXNET-PLAINTEXT-MARKER-7f3a9c";
        string data = _dir.Combine("data");
        await using (NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, _dir.Combine("mnt")))
        {
            // Small (inline-sized), chunk-sized and multi-chunk files, a name and a symlink target carry the marker.
            await Shell.RunAsync($"""
                cd '{mount.Mountpoint}'
                echo '{Marker}' > small.txt
                (for i in $(seq 1 40000); do echo "{Marker} $i"; done) > big.txt
                mkdir '{Marker}-dir'
                ln -s '{Marker}-target' link
                python3 -c "import os; f=open('edited.bin','r+b' if os.path.exists('edited.bin') else 'wb'); f.seek(3000000); f.write(b'{Marker}'); f.flush(); os.fsync(f.fileno())"
                """);
            Assert.Equal(Marker, (await File.ReadAllTextAsync(mount.PathOf("small.txt"), TestContext.Current.CancellationToken)).Trim());
            AssertNowhere(Marker, data);
        }

        AssertNowhere(Marker, data); // and after a clean stop (WAL checkpointed, temp files gone)
    }

    [Fact]
    public async Task Kill_9_leaves_the_mountpoint_usable_and_every_closed_file_intact()
    {
        string data = _dir.Combine("data"), mnt = _dir.Combine("mnt");
        string sums;
        await using (NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, mnt))
        {
            sums = await Shell.RunAsync($"""
                cd '{mount.Mountpoint}'
                mkdir -p keep/sub
                for i in $(seq 1 50); do head -c $((i * 40000)) /dev/urandom > keep/sub/f$i; done
                head -c 20000000 /dev/urandom > keep/big
                echo small > keep/small
                find keep -type f -print0 | sort -z | xargs -0 sha256sum
                """);
            mount.Process.Signal("KILL"); // the node alone, as kill -9 PID does (not its fusermount3 helper)
            await mount.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));

            // auto_unmount: the mountpoint is a plain, empty directory again at once, not a stale mount.
            await Eventually.WaitAsync(() => !NexnetMountProcess.IsMounted(mnt), TimeSpan.FromSeconds(10), "the killed mount went away");
            Assert.Empty(Directory.EnumerateFileSystemEntries(mnt));
        }

        await using NexnetMountProcess again = await NexnetMountProcess.StartAsync(data, mnt);
        Assert.Equal(sums, await Shell.RunAsync($"cd '{again.Mountpoint}' && find keep -type f -print0 | sort -z | xargs -0 sha256sum"));
    }

    [Fact]
    public async Task Editor_style_saves_are_atomic_to_a_concurrent_reader_and_the_last_survives_kill_9()
    {
        string data = _dir.Combine("data"), mnt = _dir.Combine("mnt");
        await using (NexnetMountProcess mount = await NexnetMountProcess.StartAsync(data, mnt))
        {
            // An editor's save: write a temporary file, fsync it, rename it over the old one, fsync the folder.
            // A reader opening the file by name all the while must only ever see one whole version (~180 KB each).
            string output = await Shell.RunAsync($$"""
                cd '{{mount.Mountpoint}}'
                python3 - <<'PY'
                import os, threading
                def body(n): return (f"draft {n}\n" * 20000).encode()
                path, tmp = "docs/notes.txt", "docs/.notes.txt.swp"
                os.mkdir("docs")
                with open(path, "wb") as f: f.write(body(0))
                versions = {body(n): n for n in range(101)}
                done, reads, seen, wrong = False, 0, set(), []
                def reader():
                    global reads
                    while not done:
                        try:
                            with open(path, "rb") as f: got = f.read()
                        except FileNotFoundError:
                            wrong.append("the name was missing"); continue
                        reads += 1
                        if got in versions: seen.add(versions[got])
                        else: wrong.append(f"{len(got)} bytes starting {got[:12]!r}")
                t = threading.Thread(target=reader); t.start()
                for n in range(1, 101):
                    with open(tmp, "wb") as f:
                        f.write(body(n)); f.flush(); os.fsync(f.fileno())
                    os.rename(tmp, path)
                    fd = os.open("docs", os.O_RDONLY); os.fsync(fd); os.close(fd)
                done = True; t.join()
                print(f"reads {reads}, versions seen {len(seen)}, wrong {len(wrong)}: {wrong[:3]}")
                PY
                """, TimeSpan.FromMinutes(3));
            Assert.Matches(@"^reads \d+, versions seen ([2-9]|\d\d+), wrong 0: \[\]$", output); // the reader overlapped the saves

            mount.Process.Signal("KILL"); // at once: the last save was acknowledged by its fsyncs, nothing more
            await mount.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await Eventually.WaitAsync(() => !NexnetMountProcess.IsMounted(mnt), TimeSpan.FromSeconds(10), "the killed mount went away");
        }

        await using NexnetMountProcess again = await NexnetMountProcess.StartAsync(data, mnt);
        string expected = string.Concat(Enumerable.Repeat("draft 100\n", 20000));
        Assert.Equal(expected, await File.ReadAllTextAsync(again.PathOf("docs/notes.txt"), TestContext.Current.CancellationToken));
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(again.PathOf("docs")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Sigterm_unmounts_cleanly()
    {
        string mnt = _dir.Combine("mnt");
        NexnetMountProcess mount = await NexnetMountProcess.StartAsync(_dir.Combine("data"), mnt);
        await using (mount)
        {
            Assert.True(NexnetMountProcess.IsMounted(mnt));
            Assert.Equal(0, await mount.StopAsync());
            Assert.False(NexnetMountProcess.IsMounted(mnt));
            await mount.Process.OutputEndedAsync(TimeSpan.FromSeconds(30));
            Assert.Contains(mount.Process.Lines, l => l.StartsWith("nexnet: unmounted ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task An_unmount_from_outside_ends_the_process_cleanly()
    {
        string mnt = _dir.Combine("mnt");
        NexnetMountProcess mount = await NexnetMountProcess.StartAsync(_dir.Combine("data"), mnt);
        await using (mount)
        {
            await File.WriteAllTextAsync(mount.PathOf("kept"), "kept", TestContext.Current.CancellationToken);
            Assert.Equal(string.Empty, await Shell.RunAsync($"fusermount3 -u '{mnt}'"));
            Assert.Equal(0, await mount.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            await mount.Process.OutputEndedAsync(TimeSpan.FromSeconds(30));
            Assert.Contains(mount.Process.Lines, l => l == "nexnet: unmounted from outside; stopping");
        }

        NexnetMountProcess again = await NexnetMountProcess.StartAsync(_dir.Combine("data"), mnt);
        await using (again)
        {
            Assert.Equal("kept", await File.ReadAllTextAsync(again.PathOf("kept"), TestContext.Current.CancellationToken));
        }
    }

    [Theory]
    [InlineData("missing", "does not exist: create it with `mkdir -p")]
    [InlineData("not-empty", "is not empty: mount on an empty directory")]
    [InlineData("busy", "is already a mount point (busy): unmount it first with `fusermount3 -u")]
    public async Task A_bad_mountpoint_is_one_clear_line_and_exit_code_64(string kind, string expected)
    {
        string mnt = _dir.Combine(kind);
        NexnetMountProcess? holder = null;
        if (kind == "not-empty")
        {
            Directory.CreateDirectory(mnt);
            await File.WriteAllTextAsync(Path.Combine(mnt, "x"), "x", TestContext.Current.CancellationToken);
        }
        else if (kind == "busy")
        {
            holder = await NexnetMountProcess.StartAsync(_dir.Combine("holder-data"), mnt);
        }

        try
        {
            using ChildProcess process = NexnetProcess.Start("mount", mnt, "--data", _dir.Combine("data"), "--listen", "127.0.0.1:0");
            Assert.Equal(64, await process.WaitForExitAsync(TimeSpan.FromSeconds(60))); // EX_USAGE
            string stderr = (await process.StderrAsync()).Trim();
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.Single(stderr.Split('\n'));
        }
        finally
        {
            if (holder is not null)
            {
                await holder.DisposeAsync();
            }
        }
    }

    private static void AssertNowhere(string marker, string directory)
    {
        byte[] needle = Encoding.UTF8.GetBytes(marker);
        foreach (string file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            Assert.False(Path.GetFileName(file).Contains(marker, StringComparison.Ordinal), $"{file} has the marker in its name");
            if (Path.GetFileName(file) == "control.sock")
            {
                continue; // the node's Unix socket: it stores nothing (and cannot be read as a file)
            }

            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (FileNotFoundException)
            {
                continue; // a temp file that went away meanwhile
            }

            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} holds the plaintext marker");
        }
    }

    public void Dispose() => _dir.Dispose();
}
