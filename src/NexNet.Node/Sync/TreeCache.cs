namespace NexNet.Node.Sync;

/// <summary>
/// What the tree knows without asking SQLite: entries found (or known absent), whether directories have
/// children, and which directories are complete — made here as new, empty directories, with every later
/// change under them seen — so that any name in one that is not cached does not exist. That last part
/// is what makes creating a file cheap: the kernel looks a new name up before it creates it, and
/// without it each such miss was two queries.
/// </summary>
/// <remarks>
/// Every change is stored here as it is made (before its transaction commits; a failed transaction
/// clears the cache) and bumps a generation, so a lookup that read the database before a change cannot
/// cache the old answer. Bounded: dropped whole when full, never in part, since a complete directory
/// relies on all of its children being here.
/// </remarks>
internal sealed class TreeCache
{
    private readonly long _bound;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (Entry, RecordVersion)?> _found = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _hasChildren = new(StringComparer.Ordinal);
    private readonly HashSet<string> _complete = new(StringComparer.Ordinal);
    private long _generation;
    private long _bytes;

    public TreeCache(long bound) => _bound = bound;

    /// <summary>True when the answer for <paramref name="path"/> is known; else the generation to pass to <see cref="OfferFound"/>.</summary>
    public bool TryFind(string path, out (Entry Entry, RecordVersion Version)? found, out long generation)
    {
        lock (_lock)
        {
            generation = _generation;
            if (_found.TryGetValue(path, out found))
            {
                return true;
            }

            found = null;
            return _complete.Contains(VolumePath.Parent(path));
        }
    }

    /// <summary>Caches what a lookup read, unless something changed since <paramref name="generation"/>.</summary>
    public void OfferFound(string path, (Entry, RecordVersion)? found, long generation)
    {
        lock (_lock)
        {
            if (generation == _generation)
            {
                Add(path, found);
            }
        }
    }

    public bool TryHasChildren(string directory, out bool has, out long generation)
    {
        lock (_lock)
        {
            generation = _generation;
            if (_hasChildren.TryGetValue(directory, out has))
            {
                return true;
            }

            // Under a complete directory, a child that gained children since was noted below (Stored).
            has = false;
            return directory != VolumePath.Root && _complete.Contains(VolumePath.Parent(directory));
        }
    }

    public void OfferHasChildren(string directory, bool has, long generation)
    {
        lock (_lock)
        {
            if (generation == _generation)
            {
                _bytes += directory.Length;
                _hasChildren[directory] = has;
            }
        }
    }

    /// <summary>A change to <paramref name="path"/> is being stored (locally or from a peer).</summary>
    public void Stored(string path, (Entry Entry, RecordVersion Version) current)
    {
        lock (_lock)
        {
            _generation++;
            string parent = VolumePath.Parent(path);
            if (current.Entry.Deleted)
            {
                // Whether the parent still has children is unknown now, so its parent's "complete" no longer answers for it.
                _hasChildren.Remove(parent);
                _complete.Remove(path);
                if (parent != VolumePath.Root)
                {
                    _complete.Remove(VolumePath.Parent(parent));
                }
            }
            else
            {
                _bytes += parent.Length;
                _hasChildren[parent] = true;
            }

            Add(path, current);
        }
    }

    /// <summary><paramref name="directory"/> was just made here, new and empty: a name in it that is not cached does not exist.</summary>
    public void MarkComplete(string directory)
    {
        lock (_lock)
        {
            _bytes += directory.Length;
            _complete.Add(directory);
        }
    }

    /// <summary>Forgets everything (a transaction that failed after its changes were stored here).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _generation++;
            ClearUnlocked();
        }
    }

    private void Add(string path, (Entry Entry, RecordVersion)? found)
    {
        _bytes += path.Length + (found?.Entry.CalculateSize() ?? 0);
        if (_bytes > _bound)
        {
            ClearUnlocked();
        }

        _found[path] = found;
    }

    private void ClearUnlocked()
    {
        _found.Clear();
        _hasChildren.Clear();
        _complete.Clear();
        _bytes = 0;
    }
}
