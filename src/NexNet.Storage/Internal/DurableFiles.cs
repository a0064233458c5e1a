using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NexNet.Storage.Internal;

/// <summary>
/// The few POSIX calls durability needs that .NET does not expose: fsync of a directory (so a rename
/// survives power loss), early writeback of a file's dirty pages (so a later fsync finds little to do),
/// and a rename that never replaces (a stored blob, once checked, is never swapped for another copy).
/// </summary>
internal static partial class DurableFiles
{
    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000; // same value on x86_64 and arm64; O_DIRECTORY is not, so it is not used.
    private const uint SyncFileRangeWrite = 2;
    private const int AtFdCwd = -100;
    private const uint RenameNoReplaceFlag = 1;
    private const int Enoent = 2;
    private const int Eexist = 17;
    private const int Einval = 22;
    private const int Enosys = 38;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    private static volatile bool s_noRenameAt2 = !OperatingSystem.IsLinux();

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> unless <paramref name="to"/> exists, in one
    /// atomic step: false (and nothing renamed) when it does. A missing folder throws
    /// <see cref="DirectoryNotFoundException"/>. Uses renameat2(RENAME_NOREPLACE), which costs what a plain
    /// rename does; where the kernel or file system lacks it, link and unlink (two steps, same guarantee).
    /// </summary>
    public static bool RenameNoReplace(string from, string to)
    {
        if (!s_noRenameAt2)
        {
            if (RenameAt2(AtFdCwd, from, AtFdCwd, to, RenameNoReplaceFlag) == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            switch (errno)
            {
                case Eexist:
                    return false;
                case Enoent:
                    throw new DirectoryNotFoundException($"cannot rename {from} to {to}: {Marshal.GetPInvokeErrorMessage(errno)}");
                case Einval or Enosys:
                    s_noRenameAt2 = true; // not supported here: fall through to link and unlink from now on
                    break;
                default:
                    throw new IOException($"cannot rename {from} to {to}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }

        try
        {
            File.Move(from, to, overwrite: false); // .NET links and unlinks: fails rather than replaces
            return true;
        }
        catch (IOException) when (File.Exists(to))
        {
            return false;
        }
    }

    /// <summary>Makes a directory's entries (creates, renames, unlinks) durable.</summary>
    public static void FsyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return; // Windows has no directory fsync; NTFS journals renames itself.
        }

        CallOnOpenPath(path, "fsync of directory", Fsync);
    }

    /// <summary>Whether <see cref="SyncFileSystem"/> is available (Linux).</summary>
    public static bool CanSyncFileSystem => OperatingSystem.IsLinux();

    /// <summary>
    /// Makes everything on the file system holding <paramref name="path"/> durable: one journal commit
    /// and one device flush, where fsync of N files costs N flushes even when one commit covered them all.
    /// </summary>
    public static void SyncFileSystem(string path) => CallOnOpenPath(path, "syncfs of", SyncFs);

    /// <summary>Opens <paramref name="path"/> read-only, runs <paramref name="call"/> on the descriptor, closes it; errors name the path.</summary>
    private static void CallOnOpenPath(string path, string what, Func<int, int> call)
    {
        int fd = Open(path, ORdOnly | OCloExec);
        if (fd < 0)
        {
            throw new IOException($"{what} {path} failed: cannot open it: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (call(fd) != 0)
            {
                throw new IOException($"{what} {path} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
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
