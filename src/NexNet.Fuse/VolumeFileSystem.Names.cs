using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>Names: unlink and rename (with RENAME_NOREPLACE and RENAME_EXCHANGE), including libfuse's rename of an open file to a hidden name.</summary>
public sealed partial class VolumeFileSystem
{
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
}
