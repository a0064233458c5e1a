namespace NexNet.Fuse;

/// <summary>
/// The operations the FUSE host forwards, as managed calls returning 0 (or a count) or a negative errno.
/// Paths are absolute within the mount ("/" is the root). The adapter onto the Volume API implements
/// all of them; a test tree implements the read side and inherits ENOSYS for the rest. Implementations
/// must not throw: the host turns an escaping exception into -EIO and logs it, but it is a bug.
/// </summary>
public interface IFuseFileSystem
{
    /// <summary>stat of a path (or of the open file <paramref name="handle"/>, when not 0).</summary>
    int GetAttributes(string path, ulong handle, out NodeAttributes attributes);

    /// <summary>Entries in a directory (without "." and ".."), with their type where known (so `find` need not stat each).</summary>
    int ReadDirectory(string path, ICollection<DirectoryEntry> entries);

    /// <summary>Opens a file; <paramref name="keepCache"/> lets the kernel keep pages cached from an earlier open.</summary>
    int Open(string path, int flags, out ulong handle, out bool keepCache);

    /// <summary>Bytes read into <paramref name="buffer"/> from <paramref name="offset"/>, or a negative errno.</summary>
    int Read(string path, ulong handle, Memory<byte> buffer, long offset);

    int Create(string path, uint mode, int flags, out ulong handle)
    {
        handle = 0;
        return -Errno.ENOSYS;
    }

    /// <summary>Bytes written (all of <paramref name="data"/>) or a negative errno.</summary>
    int Write(string path, ulong handle, ReadOnlySpan<byte> data, long offset) => -Errno.ENOSYS;

    int Truncate(string path, ulong handle, long length) => -Errno.ENOSYS;

    /// <summary>Each close() of a descriptor: the place to publish what was written, because release is not awaited by close.</summary>
    int Flush(string path, ulong handle) => 0;

    int Fsync(string path, ulong handle) => 0;

    int Release(string path, ulong handle) => 0;

    int MakeDirectory(string path, uint mode) => -Errno.ENOSYS;

    int RemoveDirectory(string path) => -Errno.ENOSYS;

    int Unlink(string path) => -Errno.ENOSYS;

    int Rename(string source, string target, RenameMode mode) => -Errno.ENOSYS;

    int ChangeMode(string path, ulong handle, uint mode) => -Errno.ENOSYS;

    /// <summary>Sets the modification time; null means now.</summary>
    int SetModified(string path, ulong handle, DateTimeOffset? modified) => -Errno.ENOSYS;

    int CreateSymlink(string path, string target) => -Errno.ENOSYS;

    int ReadLink(string path, out string target)
    {
        target = "";
        return -Errno.ENOSYS;
    }

    int StatFs(out FileSystemStats stats)
    {
        stats = default;
        return -Errno.ENOSYS;
    }

    int SyncDirectory(string path) => 0;
}

/// <summary>One name in a directory listing and its file type bits (<see cref="NodeAttributes.Directory"/> etc.; 0 when unknown).</summary>
public readonly record struct DirectoryEntry(string Name, uint Type = 0);

/// <summary>renameat2 flags as FUSE passes them.</summary>
[Flags]
public enum RenameMode : uint
{
    None = 0,
    NoReplace = 1,
    Exchange = 2,
}

/// <summary>What statfs reports: sizes in bytes and entry counts.</summary>
public readonly record struct FileSystemStats(long TotalBytes, long FreeBytes, long AvailableBytes, long Files);
