using Microsoft.Extensions.Logging;
using NexNet.Node;

namespace NexNet.Fuse;

/// <summary>
/// The volume as it was, read-only: either the whole tree at one moment (<c>nexnet mount DIR --at TIME</c>),
/// or, like ZFS's <c>.zfs/snapshot</c>, a directory of moments, one folder per snapshot and one per day of
/// retained history (the volume at the end of that day, UTC; today's is the volume now), each the tree as
/// it was then. Every change fails with EROFS; contents are read like any file's (fetched from peers on a miss).
/// </summary>
public sealed class PastView : IFuseFileSystem
{
    private const uint ReadOnlyDirectory = 0b101_101_101; // 0555

    private readonly Volume _volume;
    private readonly DateTimeOffset? _at;
    private readonly ILogger _log;
    private readonly Func<DateTimeOffset> _now;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, EntryInfo> _open = [];
    private readonly uint _uid = Native.MountOwner.UserId();
    private readonly uint _gid = Native.MountOwner.GroupId();
    private ulong _nextHandle;

    private PastView(Volume volume, DateTimeOffset? at, ILogger log, Func<DateTimeOffset>? now)
    {
        ArgumentNullException.ThrowIfNull(volume);
        _volume = volume;
        _at = at;
        _log = log;
        _now = now ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>The whole volume as it was at <paramref name="at"/>.</summary>
    public static PastView At(Volume volume, DateTimeOffset at, ILogger log) => new(volume, at, log, null);

    /// <summary>A directory of moments: one folder per snapshot and per day of retained history.</summary>
    public static PastView Moments(Volume volume, ILogger log, Func<DateTimeOffset>? now = null) => new(volume, null, log, now);

    /// <summary>Where <paramref name="path"/> points: a moment and a volume path, or (null) the moments directory itself.</summary>
    private (DateTimeOffset At, string Path)? Resolve(string path) =>
        _at is { } at ? (at, VolumePath.Normalize(path)) : _volume.ResolveMoment(path, _now());

    public int GetAttributes(string path, ulong handle, out NodeAttributes attributes)
    {
        NodeAttributes found = default;
        int result = FuseOperation.Run(_log, () =>
        {
            if (Resolve(path) is not { } target)
            {
                found = new NodeAttributes(NodeAttributes.Directory | ReadOnlyDirectory, 0, 2, _now(), _uid, _gid);
                return 0;
            }

            EntryInfo entry = _volume.StatAt(target.Path, target.At) ?? throw new VolumeException(VolumeError.NotFound, $"{target.Path} did not exist then");
            DateTimeOffset modified = entry.Version.IsNone ? target.At : entry.ModifiedAt; // an implicit directory: the moment itself
            found = new NodeAttributes(VolumeFileSystem.TypeOf(entry.Kind) | entry.Mode, entry.Size, entry.IsDirectory ? 2 : 1, modified, _uid, _gid);
            return 0;
        }, "getattr", path);
        attributes = found;
        return result;
    }

    public int ReadDirectory(string path, ICollection<DirectoryEntry> entries) => FuseOperation.Run(_log, () =>
    {
        if (Resolve(path) is not { } target)
        {
            foreach (string folder in _volume.Moments(_now()).Keys.Order(StringComparer.Ordinal))
            {
                entries.Add(new DirectoryEntry(folder, NodeAttributes.Directory));
            }

            return 0;
        }

        foreach (EntryInfo entry in _volume.ListAt(target.Path, target.At))
        {
            entries.Add(new DirectoryEntry(entry.Name, VolumeFileSystem.TypeOf(entry.Kind)));
        }

        return 0;
    }, "readdir", path);

    public int Open(string path, int flags, out ulong handle, out bool keepCache)
    {
        ulong opened = 0;
        keepCache = false;
        int result = FuseOperation.Run(_log, () =>
        {
            if ((flags & 3) != 0 || (flags & VolumeFileSystem.OTrunc) != 0)
            {
                return -Errno.EROFS;
            }

            if (Resolve(path) is not { } target || _volume.StatAt(target.Path, target.At) is not { } entry)
            {
                return -Errno.ENOENT;
            }

            if (entry.IsDirectory)
            {
                return -Errno.EISDIR;
            }

            lock (_lock)
            {
                opened = ++_nextHandle;
                _open[opened] = entry;
            }

            return 0;
        }, "open", path);
        handle = opened;
        return result;
    }

    public int Read(string path, ulong handle, Memory<byte> buffer, long offset) => FuseOperation.Run(_log, () =>
    {
        EntryInfo file;
        lock (_lock)
        {
            if (!_open.TryGetValue(handle, out file!))
            {
                return -Errno.EBADF;
            }
        }

        if (offset >= file.Size)
        {
            return 0;
        }

        Memory<byte> wanted = buffer[..(int)Math.Min(buffer.Length, file.Size - offset)];
        return _volume.ReadAsync(file, offset, wanted).AsTask().GetAwaiter().GetResult();
    }, "read", path);

    public int Release(string path, ulong handle)
    {
        lock (_lock)
        {
            _open.Remove(handle);
        }

        return 0;
    }

    public int ReadLink(string path, out string target) =>
        FuseOperation.ReadLink(_log, path, () => Resolve(path) is { } where ? _volume.StatAt(where.Path, where.At) : null, out target);

    public int Create(string path, uint mode, int flags, out ulong handle)
    {
        handle = 0;
        return -Errno.EROFS;
    }

    public int Write(string path, ulong handle, ReadOnlySpan<byte> data, long offset) => -Errno.EROFS;

    public int Truncate(string path, ulong handle, long length) => -Errno.EROFS;

    public int MakeDirectory(string path, uint mode) => -Errno.EROFS;

    public int RemoveDirectory(string path) => -Errno.EROFS;

    public int Unlink(string path) => -Errno.EROFS;

    public int Rename(string source, string target, RenameMode mode) => -Errno.EROFS;

    public int ChangeMode(string path, ulong handle, uint mode) => -Errno.EROFS;

    public int SetModified(string path, ulong handle, DateTimeOffset? modified) => -Errno.EROFS;

    public int CreateSymlink(string path, string target) => -Errno.EROFS;

    public int StatFs(out FileSystemStats stats)
    {
        stats = new FileSystemStats(0, 0, 0, 0);
        return 0;
    }
}
