using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>Open files: create, open, read, write, truncate, flush, fsync, release, and attribute changes that reach an open file.</summary>
public sealed partial class VolumeFileSystem
{
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
        // not fall through to the entry from before these edits. A commit that fails (a full disk) still
        // lets the file go: its edits are lost (close said so) and the space they took comes back now.
        Exception? failed = null;
        lock (file.Gate)
        {
            try
            {
                file.Commit();
            }
            catch (Exception e) when (e is IOException or VolumeException or IntegrityException)
            {
                failed = e;
            }
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
                if (failed is null)
                {
                    file.Commit(); // an attribute change that found the file just before it left the table
                }
            }
            finally
            {
                file.Close();
            }
        }

        if (failed is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed); // reported (and logged) as the error it was
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
}
