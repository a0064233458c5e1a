using System.Text;
using NexNet.Fuse;

namespace NexNet.IntegrationTests.Fuse;

/// <summary>
/// The binding end to end on a real kernel mount: a small in-memory tree served through libfuse3 and
/// read with ordinary tools (ls, cat, stat), then unmounted cleanly. Fails loudly where FUSE is missing.
/// </summary>
public sealed class FuseHostTests : IDisposable
{
    private static readonly byte[] s_hello = Encoding.UTF8.GetBytes("hello from nexnet\n");
    private static readonly byte[] s_big = Enumerable.Range(0, 3 * 1024 * 1024 + 5).Select(i => (byte)(i * 7)).ToArray();
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Ordinary_tools_read_an_in_memory_tree_through_a_real_mount()
    {
        Assert.True(File.Exists("/dev/fuse"), "/dev/fuse is missing: FUSE tests need it (modprobe fuse)");
        string mnt = _dir.Combine("mnt");
        Directory.CreateDirectory(mnt);
        using (FuseHost host = FuseHost.Mount(mnt, new MemoryTree()))
        {
            Assert.Contains(File.ReadLines("/proc/mounts"), l => l.Split(' ')[1] == mnt);
            Assert.Equal("big.bin\ndir\nhello.txt", await RunAsync("ls", "-1", mnt));
            Assert.Equal("hello from nexnet", await RunAsync("cat", Path.Combine(mnt, "hello.txt")));
            Assert.Equal($"{s_big.Length} regular file", await RunAsync("stat", "-c", "%s %F", Path.Combine(mnt, "big.bin")));
            Assert.Equal(s_big, await File.ReadAllBytesAsync(Path.Combine(mnt, "big.bin"), TestContext.Current.CancellationToken));
            Assert.True(Directory.Exists(Path.Combine(mnt, "dir")));
            Assert.False(File.Exists(Path.Combine(mnt, "missing.txt")));
        }

        Assert.DoesNotContain(File.ReadLines("/proc/mounts"), l => l.Split(' ')[1] == mnt);
        Assert.Empty(Directory.EnumerateFileSystemEntries(mnt));
    }

    [Fact]
    public void A_missing_mountpoint_is_a_clear_error()
    {
        FuseUnavailableException e = Assert.Throws<FuseUnavailableException>(() => FuseHost.Mount(_dir.Combine("nope"), new MemoryTree()));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("mkdir -p", e.Message, StringComparison.Ordinal);
    }

    private static async Task<string> RunAsync(string tool, params string[] args)
    {
        using ChildProcess process = ChildProcess.Start(tool, args);
        var lines = new List<string>();
        while (await process.ReadLineAsync(TimeSpan.FromSeconds(30)) is { } line)
        {
            lines.Add(line);
        }

        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, $"{tool} failed: {await process.StderrAsync()}");
        return string.Join('\n', lines);
    }

    /// <summary>/hello.txt, /big.bin (3 MiB, so reads cross many requests), /dir.</summary>
    private sealed class MemoryTree : IFuseFileSystem
    {
        private static readonly DateTimeOffset s_time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

        private static byte[]? FileAt(string path) => path switch
        {
            "/hello.txt" => s_hello,
            "/big.bin" => s_big,
            _ => null,
        };

        public int GetAttributes(string path, ulong handle, out NodeAttributes attributes)
        {
            attributes = default;
            if (path is "/" or "/dir")
            {
                attributes = new NodeAttributes(NodeAttributes.Directory | 0x1ED, 0, 2, s_time);
                return 0;
            }

            if (FileAt(path) is { } data)
            {
                attributes = new NodeAttributes(NodeAttributes.RegularFile | 0x1A4, data.Length, 1, s_time);
                return 0;
            }

            return -Errno.ENOENT;
        }

        public int ReadDirectory(string path, ICollection<DirectoryEntry> names)
        {
            if (path == "/")
            {
                names.Add(new DirectoryEntry("hello.txt"));
                names.Add(new DirectoryEntry("big.bin", NodeAttributes.RegularFile));
                names.Add(new DirectoryEntry("dir", NodeAttributes.Directory));
                return 0;
            }

            return path == "/dir" ? 0 : -Errno.ENOENT;
        }

        public int Open(string path, int flags, out ulong handle, out bool keepCache)
        {
            handle = 0;
            keepCache = false;
            return FileAt(path) is null ? -Errno.ENOENT : 0;
        }

        public int Read(string path, ulong handle, Memory<byte> buffer, long offset)
        {
            if (FileAt(path) is not { } data)
            {
                return -Errno.ENOENT;
            }

            if (offset >= data.Length)
            {
                return 0;
            }

            int n = (int)Math.Min(buffer.Length, data.Length - offset);
            data.AsSpan((int)offset, n).CopyTo(buffer.Span);
            return n;
        }
    }

    public void Dispose() => _dir.Dispose();
}
