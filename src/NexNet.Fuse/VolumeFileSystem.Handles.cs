using NexNet.Node;

namespace NexNet.Fuse;

/// <summary>The handle table: which open file a handle or a path stands for, and running an operation on it.</summary>
public sealed partial class VolumeFileSystem
{
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

        file = new OpenFile(_files, path, entry, mode);
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

        var file = new OpenFile(_files, entry.Path, entry, entry.Mode);
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
}
