namespace NexNet.WebDav;

/// <summary>
/// The server's WebDAV locks, in memory: Office, Finder and Explorer take them around every save, and
/// they need to outlive one request, not the process (a restart ends them all, as a timeout would).
/// Expired locks are dropped whenever locks are looked at.
/// </summary>
internal sealed class LockManager
{
    /// <summary>Longest timeout granted; clients refresh.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly List<DavLock> _locks = [];

    /// <summary>Locks that apply to <paramref name="path"/>: on it, or on an ancestor at depth infinity.</summary>
    public IReadOnlyList<DavLock> Covering(string path)
    {
        lock (_lock)
        {
            Purge();
            return [.. _locks.Where(l => l.Covers(path))];
        }
    }

    /// <summary>Locks on <paramref name="path"/> or anywhere below it.</summary>
    public IReadOnlyList<DavLock> AtOrBelow(string path)
    {
        lock (_lock)
        {
            Purge();
            return [.. _locks.Where(l => l.Path == path || Node.VolumePath.IsWithin(l.Path, path))];
        }
    }

    public DavLock? Find(string token)
    {
        lock (_lock)
        {
            Purge();
            return _locks.FirstOrDefault(l => l.Token == token);
        }
    }

    /// <summary>Takes a lock, or returns null when one that conflicts exists (exclusive against anything).</summary>
    public DavLock? TryTake(string path, bool exclusive, bool infinite, XElement? owner, TimeSpan timeout)
    {
        lock (_lock)
        {
            Purge();
            bool conflict = _locks.Any(l => (l.Covers(path) || (infinite && Node.VolumePath.IsWithin(l.Path, path))) && (l.Exclusive || exclusive));
            if (conflict)
            {
                return null;
            }

            var taken = new DavLock($"opaquelocktoken:{Guid.NewGuid()}", path, exclusive, infinite, owner, timeout);
            _locks.Add(taken);
            return taken;
        }
    }

    public bool Release(string token)
    {
        lock (_lock)
        {
            return _locks.RemoveAll(l => l.Token == token) > 0;
        }
    }

    /// <summary>Drops the locks on <paramref name="path"/> and below (it was deleted or moved away).</summary>
    public void RemoveAtOrBelow(string path)
    {
        lock (_lock)
        {
            _locks.RemoveAll(l => l.Path == path || Node.VolumePath.IsWithin(l.Path, path));
        }
    }

    private void Purge() => _locks.RemoveAll(l => l.Expires < DateTimeOffset.UtcNow);
}
