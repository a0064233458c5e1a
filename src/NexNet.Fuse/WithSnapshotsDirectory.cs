using NexNet.Node;

namespace NexNet.Fuse;

/// <summary>
/// A mount's file system with the past one name away: <c>/.snapshots</c> at the root (not listed, reachable
/// by name, as ZFS's <c>.zfs</c>) is a <see cref="PastView"/> of moments; everything else is the live
/// file system. A volume path of that name is hidden by it (the name is the view's).
/// </summary>
public sealed class WithSnapshotsDirectory(IFuseFileSystem live, PastView past) : IFuseFileSystem
{
    public const string Name = Volume.MomentsDirectory;

    private const string Root = "/" + Name;

    /// <summary>The view's path for a path inside the snapshots directory; null for any other path.</summary>
    private static string? InView(string path) =>
        path == Root ? "/" : path.StartsWith(Root + "/", StringComparison.Ordinal) ? path[Root.Length..] : null;

    public int GetAttributes(string path, ulong handle, out NodeAttributes attributes) =>
        InView(path) is { } p ? past.GetAttributes(p, handle, out attributes) : live.GetAttributes(path, handle, out attributes);

    public int ReadDirectory(string path, ICollection<DirectoryEntry> entries) =>
        InView(path) is { } p ? past.ReadDirectory(p, entries) : live.ReadDirectory(path, entries);

    public int Open(string path, int flags, out ulong handle, out bool keepCache) =>
        InView(path) is { } p ? past.Open(p, flags, out handle, out keepCache) : live.Open(path, flags, out handle, out keepCache);

    public int Read(string path, ulong handle, Memory<byte> buffer, long offset) =>
        InView(path) is { } p ? past.Read(p, handle, buffer, offset) : live.Read(path, handle, buffer, offset);

    public int Create(string path, uint mode, int flags, out ulong handle)
    {
        if (InView(path) is not null)
        {
            handle = 0;
            return -Errno.EROFS;
        }

        return live.Create(path, mode, flags, out handle);
    }

    public int Write(string path, ulong handle, ReadOnlySpan<byte> data, long offset) =>
        InView(path) is not null ? -Errno.EROFS : live.Write(path, handle, data, offset);

    public int Truncate(string path, ulong handle, long length) => InView(path) is not null ? -Errno.EROFS : live.Truncate(path, handle, length);

    public int Flush(string path, ulong handle) => InView(path) is not null ? 0 : live.Flush(path, handle);

    public int Fsync(string path, ulong handle) => InView(path) is not null ? 0 : live.Fsync(path, handle);

    public int Release(string path, ulong handle) => InView(path) is { } p ? past.Release(p, handle) : live.Release(path, handle);

    public int MakeDirectory(string path, uint mode) => InView(path) is not null ? -Errno.EROFS : live.MakeDirectory(path, mode);

    public int RemoveDirectory(string path) => InView(path) is not null ? -Errno.EROFS : live.RemoveDirectory(path);

    public int Unlink(string path) => InView(path) is not null ? -Errno.EROFS : live.Unlink(path);

    public int Rename(string source, string target, RenameMode mode) =>
        InView(source) is not null || InView(target) is not null ? -Errno.EROFS : live.Rename(source, target, mode);

    public int ChangeMode(string path, ulong handle, uint mode) => InView(path) is not null ? -Errno.EROFS : live.ChangeMode(path, handle, mode);

    public int SetModified(string path, ulong handle, DateTimeOffset? modified) =>
        InView(path) is not null ? -Errno.EROFS : live.SetModified(path, handle, modified);

    public int CreateSymlink(string path, string target) => InView(path) is not null ? -Errno.EROFS : live.CreateSymlink(path, target);

    public int ReadLink(string path, out string target) => InView(path) is { } p ? past.ReadLink(p, out target) : live.ReadLink(path, out target);

    public int StatFs(out FileSystemStats stats) => live.StatFs(out stats);

    public int SyncDirectory(string path) => InView(path) is not null ? 0 : live.SyncDirectory(path);
}
