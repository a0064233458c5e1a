using Microsoft.Extensions.Logging;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>
/// The FUSE adapter: every file system operation translated onto the <see cref="Volume"/> API. Open
/// files are edited in place (<see cref="OpenFile"/>) and committed as one record on close (flush) and
/// on fsync; fsync also makes the chunks and the record durable. Metadata changes are committed at once
/// but, like any local file system's, reach the disk's platter on the next fsync (they survive a killed
/// process at once).
/// </summary>
/// <remarks>
/// Unlinking an open file: libfuse (hard_remove off) first renames it to <c>.fuse_hidden…</c>; here that
/// rename removes the entry from the volume and keeps the file only in memory for its handles, so peers
/// never see the hidden name. Every entry is reported as owned by the user who mounted: the volume is
/// one person's, shared between their machines, and ownership is not part of it.
/// </remarks>
public sealed partial class VolumeFileSystem : IFuseFileSystem
{
    private const string HiddenPrefix = ".fuse_hidden";
    private const int MaxNameBytes = 255;
    internal const int OTrunc = 0x200; // O_TRUNC, the same on x86_64 and arm64
    private const int OExcl = 0x80;

    private readonly Volume _volume;
    private readonly VolumeFileStore _files;
    private readonly string _dataDirectory;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, OpenFile> _byPath = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, OpenFile> _byHandle = [];
    private readonly Dictionary<string, RecordVersion> _cachedVersions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingRemoval> _pendingRemovals = new(StringComparer.Ordinal);
    private readonly uint _uid = Native.MountOwner.UserId();
    private readonly uint _gid = Native.MountOwner.GroupId();
    private ulong _nextHandle;
    private long _leftTable; // open files that left _byPath at their last release: see StatForOpen

    public VolumeFileSystem(Volume volume, string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(volume);
        _volume = volume;
        _files = new VolumeFileStore(volume);
        _dataDirectory = dataDirectory;
        _log = logger;
        volume.Changed += OnChanged;
        FuseHost.UnexpectedError ??= (operation, e) => Log.Unexpected(logger, operation, e);
    }

    /// <summary>Drops the kernel's cache of a path; set by whoever mounts (<see cref="FuseHost.InvalidatePath"/>).</summary>
    public Action<string>? InvalidatePath { get; set; }

    // ------------------------------------------------------------------ attributes and directories

    public int GetAttributes(string path, ulong handle, out NodeAttributes attributes)
    {
        attributes = default;
        if (TooLong(path))
        {
            return -Errno.ENAMETOOLONG;
        }

        if (handle == 0)
        {
            AwaitPendingRemoval(path, lookup: true);
        }

        if (Find(path, handle) is { } file)
        {
            lock (file.Gate)
            {
                attributes = new NodeAttributes(NodeAttributes.RegularFile | file.Mode, file.Length, 1, file.Modified, _uid, _gid);
                return 0;
            }
        }

        NodeAttributes found = default;
        int result = Run(() =>
        {
            EntryInfo? entry = _volume.Stat(path);
            if (entry is null)
            {
                return -Errno.ENOENT;
            }

            found = AttributesOf(entry);
            return 0;
        }, "getattr", path);
        attributes = found;
        return result;
    }

    public int ReadDirectory(string path, ICollection<DirectoryEntry> entries) => Run(() =>
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, EntryKind kind) in _volume.ListKinds(path))
        {
            entries.Add(new DirectoryEntry(name, TypeOf(kind)));
            seen.Add(name);
        }

        lock (_lock)
        {
            // Files created and still open (committed on their first close) are there too.
            string directory = VolumePath.Normalize(path);
            foreach (OpenFile file in _byPath.Values)
            {
                if (!file.Unlinked && file.Version.IsNone && VolumePath.Parent(file.Path) == directory && seen.Add(VolumePath.Name(file.Path)))
                {
                    entries.Add(new DirectoryEntry(VolumePath.Name(file.Path), NodeAttributes.RegularFile));
                }
            }
        }

        return 0;
    }, "readdir", path);

    public int MakeDirectory(string path, uint mode) => Run(() =>
    {
        if (TooLong(path))
        {
            return -Errno.ENAMETOOLONG;
        }

        _volume.CreateDirectory(path, mode & 0xFFF, Durability.Relaxed);
        return 0;
    }, "mkdir", path);

    public int RemoveDirectory(string path) => Run(() =>
    {
        EntryInfo entry = _volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        if (!entry.IsDirectory)
        {
            return -Errno.ENOTDIR;
        }

        _volume.Delete(path, durability: Durability.Relaxed);
        return 0;
    }, "rmdir", path);

    public int CreateSymlink(string path, string target) => Run(() =>
    {
        if (TooLong(path))
        {
            return -Errno.ENAMETOOLONG;
        }

        _volume.CreateSymlink(path, target, Durability.Relaxed);
        return 0;
    }, "symlink", path);

    public int ReadLink(string path, out string target) => FuseOperation.ReadLink(_log, path, () => _volume.Stat(path), out target);

    public int StatFs(out FileSystemStats stats)
    {
        FileSystemStats found = default;
        int result = Run(() =>
        {
            var drive = new DriveInfo(_dataDirectory);
            // Available: what new chunks may still take (the store keeps a reserve free for commits and records).
            found = new FileSystemStats(drive.TotalSize, drive.TotalFreeSpace, _volume.AvailableBytes(), _volume.EntryCount());
            return 0;
        }, "statfs", "/");
        stats = found;
        return result;
    }

    public int SyncDirectory(string path) => Run(() =>
    {
        _volume.Flush();
        return 0;
    }, "fsyncdir", path);

    private NodeAttributes AttributesOf(EntryInfo entry) =>
        new(TypeOf(entry.Kind) | entry.Mode, entry.Size, entry.IsDirectory ? 2 : 1, entry.ModifiedAt, _uid, _gid);

    internal static uint TypeOf(EntryKind kind) => kind switch
    {
        EntryKind.Directory => NodeAttributes.Directory,
        EntryKind.Symlink => NodeAttributes.Symlink,
        _ => NodeAttributes.RegularFile,
    };

    private void OnChanged(string path)
    {
        if (FuseHost.OnCallbackThread)
        {
            return; // our own change: the kernel made it and knows
        }

        lock (_lock)
        {
            _cachedVersions.Remove(path);
        }

        if (InvalidatePath is { } invalidate)
        {
            ThreadPool.UnsafeQueueUserWorkItem(p => invalidate(p), path, preferLocal: false);
        }
    }
}
