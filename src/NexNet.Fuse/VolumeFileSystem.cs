using System.Text;
using Microsoft.Extensions.Logging;
using NexNet.Crypto;
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
public sealed class VolumeFileSystem : IFuseFileSystem
{
    private const string HiddenPrefix = ".fuse_hidden";
    private const int MaxNameBytes = 255;
    private const int OTrunc = 0x200; // O_TRUNC, the same on x86_64 and arm64
    private const int OExcl = 0x80;

    private readonly Volume _volume;
    private readonly string _dataDirectory;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, OpenFile> _byPath = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, OpenFile> _byHandle = [];
    private readonly Dictionary<string, RecordVersion> _cachedVersions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingRemoval> _pendingRemovals = new(StringComparer.Ordinal);
    private readonly uint _uid = Native.Posix.UserId();
    private readonly uint _gid = Native.Posix.GroupId();
    private ulong _nextHandle;
    private long _leftTable; // open files that left _byPath at their last release: see StatForOpen

    public VolumeFileSystem(Volume volume, string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(volume);
        _volume = volume;
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

    public int ReadLink(string path, out string target)
    {
        string found = "";
        int result = Run(() =>
        {
            EntryInfo entry = _volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
            if (entry.Kind != EntryKind.Symlink)
            {
                return -Errno.EINVAL;
            }

            found = entry.Target ?? "";
            return 0;
        }, "readlink", path);
        target = found;
        return result;
    }

    public int StatFs(out FileSystemStats stats)
    {
        FileSystemStats found = default;
        int result = Run(() =>
        {
            var drive = new DriveInfo(_dataDirectory);
            found = new FileSystemStats(drive.TotalSize, drive.TotalFreeSpace, drive.AvailableFreeSpace, _volume.EntryCount());
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

    // ------------------------------------------------------------------ files

    public int Create(string path, uint mode, int flags, out ulong handle)
    {
        ulong opened = 0;
        int result = Run(() =>
        {
            if (TooLong(path))
            {
                return -Errno.ENAMETOOLONG;
            }

            AwaitPendingRemoval(path);
            string parent = VolumePath.Parent(VolumePath.Normalize(path));
            EntryInfo directory = _volume.Stat(parent) ?? throw new VolumeException(VolumeError.NotFound, $"{parent} does not exist");
            if (!directory.IsDirectory)
            {
                return -Errno.ENOTDIR;
            }

            EntryInfo? existing = StatForOpen(path, out long left);
            lock (_lock)
            {
                existing = Restat(path, existing, left);

                if ((existing is not null || _byPath.ContainsKey(path)) && (flags & OExcl) != 0)
                {
                    return -Errno.EEXIST;
                }

                if (existing is { IsDirectory: true })
                {
                    return -Errno.EISDIR;
                }

                OpenFile file = Acquire(path, existing, mode & 0xFFF);
                lock (file.Gate)
                {
                    if (existing is not null)
                    {
                        file.Resize(0); // creat() on an existing file truncates it
                    }
                }

                opened = AddHandle(file);
                return 0;
            }
        }, "create", path);
        handle = opened;
        return result;
    }

    public int Open(string path, int flags, out ulong handle, out bool keepCache)
    {
        ulong opened = 0;
        bool keep = false;
        int result = Run(() =>
        {
            AwaitPendingRemoval(path);
            EntryInfo? entry = StatForOpen(path, out long left);
            lock (_lock)
            {
                entry = Restat(path, entry, left);

                if (entry is null && !_byPath.ContainsKey(path))
                {
                    return -Errno.ENOENT;
                }

                if (entry is { IsDirectory: true })
                {
                    return -Errno.EISDIR;
                }

                OpenFile file = Acquire(path, entry, EntryInfo.DefaultFileMode);
                lock (file.Gate)
                {
                    if ((flags & OTrunc) != 0 && (flags & 3) != 0)
                    {
                        file.Resize(0);
                    }

                    // The kernel may keep pages it cached at an earlier open only if the file is still that version.
                    keep = !file.Changed && _cachedVersions.TryGetValue(path, out RecordVersion cached) && cached == file.Version;
                    _cachedVersions[path] = file.Version;
                }

                opened = AddHandle(file);
                return 0;
            }
        }, "open", path);
        handle = opened;
        keepCache = keep;
        return result;
    }

    public int Read(string path, ulong handle, Memory<byte> buffer, long offset) => OnFile(path, handle, "read", file => file.Read(offset, buffer));

    public int Write(string path, ulong handle, ReadOnlySpan<byte> data, long offset)
    {
        unsafe
        {
            fixed (byte* p = data)
            {
                byte* pointer = p;
                int length = data.Length;
                return OnFile(path, handle, "write", file =>
                {
                    file.Write(offset, new ReadOnlySpan<byte>(pointer, length));
                    return length;
                });
            }
        }
    }

    public int Truncate(string path, ulong handle, long length) => OnOpenOrEntry(path, handle, "truncate",
        file =>
        {
            file.Resize(length);
            if (handle == 0)
            {
                file.Commit(); // truncate(2) by name has no close to wait for
            }

            return 0;
        },
        () => OnDetachedFile(path, file => file.Resize(length)));

    public int Flush(string path, ulong handle) => OnFile(path, handle, "flush", file =>
    {
        file.Commit();
        return 0;
    });

    public int Fsync(string path, ulong handle) => OnFile(path, handle, "fsync", file =>
    {
        file.Commit();
        _volume.Flush();
        return 0;
    });

    public int Release(string path, ulong handle) => Run(() =>
    {
        OpenFile? file;
        lock (_lock)
        {
            if (!_byHandle.Remove(handle, out file))
            {
                return -Errno.EBADF;
            }

            if (--file.Handles > 0)
            {
                return 0;
            }
        }

        // Commit while the file can still be found by name: a lookup in between (the kernel sends release
        // after close has returned, so the program may already be renaming it or setting its times) must
        // not fall through to the entry from before these edits.
        lock (file.Gate)
        {
            file.Commit();
        }

        lock (_lock)
        {
            if (file.Handles > 0)
            {
                return 0; // opened again meanwhile: it stays
            }

            // A hidden (unlinked) file stays findable by its hidden name for a while: the kernel may still
            // send an open for the inode a reader looked up just before the rename that replaced it.
            if (!file.Unlinked && _byPath.TryGetValue(file.Path, out OpenFile? current) && current == file)
            {
                _byPath.Remove(file.Path);
                _leftTable++;
            }

            SweepHidden();
        }

        lock (file.Gate)
        {
            try
            {
                file.Commit(); // an attribute change that found the file just before it left the table
            }
            finally
            {
                file.Close();
            }
        }

        return 0;
    }, "release", path);

    public int ChangeMode(string path, ulong handle, uint mode) => SetAttributes(path, handle, mode & 0xFFF, null, "chmod");

    public int SetModified(string path, ulong handle, DateTimeOffset? modified) =>
        SetAttributes(path, handle, null, modified ?? DateTimeOffset.UtcNow, "utimens");

    /// <summary>
    /// chmod and utimens. The kernel sends them by name even for fchmod and futimens (tar's order: write,
    /// fchown, fchmod, futimens, close), so on a file that is open here they join the edits its close
    /// commits: one record per extracted file instead of three. Otherwise they change the entry at once.
    /// </summary>
    private int SetAttributes(string path, ulong handle, uint? mode, DateTimeOffset? modified, string operation) => OnOpenOrEntry(path, handle, operation,
        file =>
        {
            file.SetAttributes(mode, modified);
            if (file.Handles == 0)
            {
                file.Commit(); // nobody has it open: no close follows to commit it
            }

            return 0;
        },
        () =>
        {
            _volume.SetAttributes(path, mode, modified, Durability.Relaxed);
            return 0;
        });

    /// <summary>
    /// A change by name (or handle) to a file that may be open here: made on the open file when it is, else
    /// on the committed entry. By name, the kernel's late release can close the open file between finding
    /// it and locking it; its edits are committed by then, so the change goes to the entry.
    /// </summary>
    private int OnOpenOrEntry(string path, ulong handle, string operation, Func<OpenFile, int> onOpen, Func<int> onEntry)
    {
        if (Find(path, handle) is { } file)
        {
            bool closed = false;
            int result = Run(() =>
            {
                lock (file.Gate)
                {
                    if (file.Closed)
                    {
                        closed = true;
                        return 0;
                    }

                    return onOpen(file);
                }
            }, operation, path);
            if (!closed)
            {
                return result;
            }
        }

        return Run(onEntry, operation, path);
    }

    // ------------------------------------------------------------------ names

    public int Unlink(string path) => Run(() =>
    {
        AwaitPendingRemoval(path);
        lock (_lock)
        {
            if (_byPath.TryGetValue(path, out OpenFile? open) && open.Unlinked)
            {
                open.HiddenUntil = DateTimeOffset.UtcNow + s_hiddenLinger; // libfuse removing its hidden name at the last close
                return 0;
            }
        }

        EntryInfo entry = _volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        if (entry.IsDirectory)
        {
            return -Errno.EISDIR;
        }

        _volume.Delete(path, durability: Durability.Relaxed);
        lock (_lock)
        {
            _cachedVersions.Remove(path);
        }

        return 0;
    }, "unlink", path);

    public int Rename(string source, string target, RenameMode mode) => Run(() =>
    {
        if (TooLong(target))
        {
            return -Errno.ENAMETOOLONG;
        }

        OpenFile? moving;
        lock (_lock)
        {
            _byPath.TryGetValue(source, out moving);
        }

        if (moving is not null && VolumePath.Name(target).StartsWith(HiddenPrefix, StringComparison.Ordinal))
        {
            return Hide(moving, source, target);
        }

        if ((mode & RenameMode.NoReplace) != 0 && Exists(target))
        {
            return -Errno.EEXIST;
        }

        // An open file's edits go first, so the name moves with its latest contents.
        CommitOpen(source);
        if ((mode & RenameMode.Exchange) != 0)
        {
            CommitOpen(target);
            _volume.Exchange(source, target, Durability.Relaxed);
            lock (_lock)
            {
                Rekey(source, "\0exchange");
                Rekey(target, source);
                Rekey("\0exchange", target);
            }

            return 0;
        }

        PendingRemoval? replaced;
        lock (_lock)
        {
            _pendingRemovals.TryGetValue(target, out replaced);
        }

        if (replaced is not null && replaced.Thread == Environment.CurrentManagedThreadId)
        {
            // The hidden open file was this rename's target: the rename replaces its entry in one step.
            lock (_lock)
            {
                replaced.Settled = true;
                _pendingRemovals.Remove(target);
            }

            try
            {
                _volume.Rename(source, target, durability: Durability.Relaxed);
            }
            finally
            {
                replaced.Done.Set();
            }
        }
        else
        {
            AwaitPendingRemoval(target);
            _volume.Rename(source, target, durability: Durability.Relaxed);
        }

        lock (_lock)
        {
            Rekey(source, target);
            _cachedVersions.Remove(source);
            _cachedVersions.Remove(target);
        }

        return 0;
    }, "rename", source);

    // ------------------------------------------------------------------ helpers

    /// <summary>How long a hidden file stays openable by its hidden name after libfuse removed that name.</summary>
    private static readonly TimeSpan s_hiddenLinger = TimeSpan.FromSeconds(10);

    /// <summary>Forgets hidden files whose linger ended and that nobody has open. Caller holds _lock.</summary>
    private void SweepHidden()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach ((string path, OpenFile file) in _byPath.Where(p => p.Value.Unlinked && p.Value.Handles == 0 && p.Value.HiddenUntil < now).ToList())
        {
            _byPath.Remove(path);
        }
    }

    /// <summary>
    /// libfuse renames an open file to a hidden name both when it is unlinked and when a rename replaces
    /// it, and we cannot tell which: in the second case the replacing rename follows at once on this
    /// thread, and removing the name now would let readers see it missing in between. So the removal is
    /// pending for a moment: a rename onto the name from this thread cancels it (it replaces the entry in
    /// one step), otherwise it happens. Lookups of the name wait for the outcome (a few milliseconds).
    /// </summary>
    private int Hide(OpenFile file, string source, string hidden)
    {
        lock (file.Gate)
        {
            file.Unlinked = true;
        }

        var pending = new PendingRemoval(source, Environment.CurrentManagedThreadId, !file.Version.IsNone);
        lock (_lock)
        {
            _byPath.Remove(source);
            _byPath[hidden] = file;
            file.Path = hidden;
            _cachedVersions.Remove(source);
            _pendingRemovals[source] = pending;
        }

        _ = Task.Delay(PendingRemoval.Window).ContinueWith(_ => Resolve(pending, remove: true), TaskScheduler.Default);
        return 0;
    }

    /// <summary>Settles a pending removal once: removes the entry (unlink) or leaves it to the rename that replaced it.</summary>
    private void Resolve(PendingRemoval pending, bool remove)
    {
        lock (_lock)
        {
            if (pending.Settled)
            {
                return;
            }

            pending.Settled = true;
            _pendingRemovals.Remove(pending.Path);
        }

        try
        {
            if (remove && pending.Committed)
            {
                if (_volume.Stat(pending.Path) is { IsDirectory: false })
                {
                    _volume.Delete(pending.Path, durability: Durability.Relaxed);
                }
            }
        }
        catch (VolumeException)
        {
            // Already gone.
        }
        finally
        {
            pending.Done.Set();
        }
    }

    /// <summary>
    /// Waits for a pending removal of <paramref name="path"/> made by another thread (see <see cref="Hide"/>).
    /// One made on this thread is part of this request (libfuse's rename over an open file hides the
    /// target, then renames, in one request) and is left alone — except by a <paramref name="lookup"/>:
    /// libfuse never looks the hidden path up inside that sequence, so a lookup on the same thread is a
    /// later request (the loop reuses its threads), and the unlink it follows is settled now.
    /// </summary>
    private void AwaitPendingRemoval(string path, bool lookup = false)
    {
        PendingRemoval? pending;
        lock (_lock)
        {
            if (!_pendingRemovals.TryGetValue(path, out pending))
            {
                return;
            }
        }

        if (pending.Thread != Environment.CurrentManagedThreadId)
        {
            pending.Done.Wait(TimeSpan.FromSeconds(5));
        }
        else if (lookup)
        {
            Resolve(pending, remove: true);
        }
    }

    private void CommitOpen(string path)
    {
        OpenFile? file;
        lock (_lock)
        {
            _byPath.TryGetValue(path, out file);
        }

        if (file is not null)
        {
            lock (file.Gate)
            {
                file.Commit();
            }
        }
    }

    /// <summary>Moves open files at or below <paramref name="from"/> to the same place below <paramref name="to"/>. Caller holds _lock.</summary>
    private void Rekey(string from, string to)
    {
        foreach ((string path, OpenFile file) in _byPath.ToList())
        {
            string? moved = path == from ? to : VolumePath.IsWithin(path, from) ? to + path[from.Length..] : null;
            if (moved is not null)
            {
                _byPath.Remove(path);
                _byPath[moved] = file;
                file.Path = moved;
            }
        }
    }

    private bool Exists(string path)
    {
        lock (_lock)
        {
            if (_byPath.ContainsKey(path))
            {
                return true;
            }
        }

        return _volume.Stat(path) is not null;
    }

    /// <summary>The open file for a handle (or, without one, for a path). Caller must not hold _lock.</summary>
    private OpenFile? Find(string path, ulong handle)
    {
        lock (_lock)
        {
            if (handle != 0)
            {
                return _byHandle.GetValueOrDefault(handle);
            }

            return _byPath.GetValueOrDefault(path);
        }
    }

    /// <summary>
    /// The entry an open or create starts from, read before taking the table lock (a lookup must not hold
    /// it), with a count of files that have left the table. The kernel sends a release after close has
    /// returned, so the program's next open can race it: the release commits the file's last attribute
    /// edits and then removes it from the table, and a stat taken before that commit would start the new
    /// open from the entry before them (rsync's utimensat between its two closes came back undone). The
    /// caller stats again under the lock when the count moved and the file is no longer in the table.
    /// </summary>
    private EntryInfo? StatForOpen(string path, out long left)
    {
        lock (_lock)
        {
            left = _leftTable;
        }

        return _volume.Stat(path);
    }

    /// <summary>
    /// <paramref name="stat"/>, or the entry read again when a last release committed a file and took it
    /// out of the table since <see cref="StatForOpen"/> (the first read may predate that commit). Caller holds _lock.
    /// </summary>
    private EntryInfo? Restat(string path, EntryInfo? stat, long left) =>
        _leftTable != left && !_byPath.ContainsKey(path) ? _volume.Stat(path) : stat;

    /// <summary>The shared open file for a path, made from its entry when it has no handles yet. Caller holds _lock.</summary>
    private OpenFile Acquire(string path, EntryInfo? entry, uint mode)
    {
        if (_byPath.TryGetValue(path, out OpenFile? file))
        {
            lock (file.Gate)
            {
                file.Reopen(); // a hidden file's next open (its edits were kept as stored chunks)

                // Only a newer entry: the caller's stat may predate the file's own last commit (a release racing this open).
                if (!file.Changed && entry is not null && entry.Version > file.Version)
                {
                    file.Reset(entry, mode); // a peer changed it and nobody here has edits
                }
            }

            return file;
        }

        file = new OpenFile(_volume, path, entry, mode);
        _byPath[path] = file;
        return file;
    }

    private ulong AddHandle(OpenFile file)
    {
        ulong handle = ++_nextHandle;
        _byHandle[handle] = file;
        file.Handles++;
        return handle;
    }

    private int OnFile(string path, ulong handle, string operation, Func<OpenFile, int> action) => Run(() =>
    {
        OpenFile? file = Find(path, handle);
        if (file is null)
        {
            return -Errno.EBADF;
        }

        lock (file.Gate)
        {
            return action(file);
        }
    }, operation, path);

    /// <summary>An edit by name to a file nobody has open: made on a short-lived open file and committed at once. Inside <see cref="Run"/>.</summary>
    private int OnDetachedFile(string path, Action<OpenFile> action)
    {
        EntryInfo entry = _volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        if (entry.Content is null)
        {
            return entry.IsDirectory ? -Errno.EISDIR : -Errno.EINVAL;
        }

        var file = new OpenFile(_volume, entry.Path, entry, entry.Mode);
        lock (file.Gate)
        {
            try
            {
                action(file);
                file.Commit();
            }
            finally
            {
                file.Close();
            }
        }

        return 0;
    }

    private NodeAttributes AttributesOf(EntryInfo entry) =>
        new(TypeOf(entry.Kind) | entry.Mode, entry.Size, entry.IsDirectory ? 2 : 1, entry.ModifiedAt, _uid, _gid);

    private static uint TypeOf(EntryKind kind) => kind switch
    {
        EntryKind.Directory => NodeAttributes.Directory,
        EntryKind.Symlink => NodeAttributes.Symlink,
        _ => NodeAttributes.RegularFile,
    };

    private static bool TooLong(string path)
    {
        foreach (string part in path.Split('/'))
        {
            if (Encoding.UTF8.GetByteCount(part) > MaxNameBytes)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs one operation: Volume errors become their errno, a full disk ENOSPC, a damaged or unavailable
    /// chunk EIO with one log line.
    /// </summary>
    private int Run(Func<int> operation, string name, string path)
    {
        try
        {
            return operation();
        }
        catch (VolumeException e)
        {
            if (e.Error is VolumeError.Unavailable)
            {
                Log.OperationFailed(_log, name, path, e.Message);
            }

            return -ErrnoOf(e.Error);
        }
        catch (IntegrityException e)
        {
            Log.OperationFailed(_log, name, path, e.Message);
            return -Errno.EIO;
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            Log.OperationFailed(_log, name, path, "the disk is full");
            return -Errno.ENOSPC;
        }
        catch (IOException e)
        {
            Log.OperationFailed(_log, name, path, e.Message);
            return -Errno.EIO;
        }
    }

    private static int ErrnoOf(VolumeError error) => error switch
    {
        VolumeError.NotFound => Errno.ENOENT,
        VolumeError.AlreadyExists => Errno.EEXIST,
        VolumeError.NotADirectory => Errno.ENOTDIR,
        VolumeError.IsADirectory => Errno.EISDIR,
        VolumeError.NotEmpty => Errno.ENOTEMPTY,
        VolumeError.InvalidPath => Errno.EINVAL,
        VolumeError.NotAMember => Errno.EROFS,
        VolumeError.TooLarge => Errno.EFBIG,
        _ => Errno.EIO,
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

    /// <summary>A name whose open file libfuse hid: removed after <see cref="Window"/> unless a rename from the same thread replaces it first.</summary>
    private sealed class PendingRemoval(string path, int thread, bool committed)
    {
        public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(5);

        public string Path { get; } = path;

        public int Thread { get; } = thread;

        /// <summary>The hidden file had been committed (an entry exists to remove).</summary>
        public bool Committed { get; } = committed;

        public bool Settled { get; set; }

        public ManualResetEventSlim Done { get; } = new();
    }
}
