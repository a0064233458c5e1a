using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NexNet.Storage.Internal;

/// <summary>
/// The few POSIX calls durability needs that .NET does not expose: fsync of a directory (so a rename
/// survives power loss) and early writeback of a file's dirty pages (so a later fsync finds little to do).
/// </summary>
internal static partial class Posix
{
    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000; // same value on x86_64 and arm64; O_DIRECTORY is not, so it is not used.
    private const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    /// <summary>Makes a directory's entries (creates, renames, unlinks) durable.</summary>
    public static void FsyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // Windows has no directory fsync; NTFS journals renames itself.
        }

        int fd = Open(path, ORdOnly | OCloExec);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path} to fsync it: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Starts writeback of a file's dirty pages without waiting (Linux only; elsewhere a no-op).</summary>
    public static void StartWriteback(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Advisory: a failure only means the later fsync does the work instead.
        _ = SyncFileRange((int)handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
    }
}
