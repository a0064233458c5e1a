namespace NexNet.Node;

/// <summary>History: every version of a path, the tree at any moment, deleted files, restores and snapshots.</summary>
public sealed partial class Volume
{
    /// <summary>Restored entries committed (and pushed to peers) together.</summary>
    private const int RestoreBatch = 256;

    /// <summary>
    /// Every version of <paramref name="path"/> history holds, oldest first; the current one (or its
    /// tombstone) last. A deletion the path came back from is not kept as a version of its own: it shows as
    /// a <see cref="HistoryChange.Deleted"/> entry at the end of the version it deleted (by an unknown
    /// device), where the next version starts at least <see cref="Tree.Brief"/> later.
    /// </summary>
    public IReadOnlyList<HistoryVersion> History(string path)
    {
        path = VolumePath.Normalize(path);
        var versions = new List<HistoryVersion>();
        Entry? previous = null;
        long previousUntil = 0;
        foreach ((Entry entry, RecordVersion version, long until) in _tree.VersionsOf(path))
        {
            bool deletedBetween = previous is { Deleted: false } && HybridClock.WallTime(version.Clock) - HybridClock.WallTime(previousUntil) >= Tree.Brief;
            if (deletedBetween)
            {
                Entry gone = previous!.Clone();
                gone.Deleted = true;
                versions.Add(new HistoryVersion(versions.Count + 1, EntryCodec.ToInfo(gone, new RecordVersion(previousUntil, default)), true,
                    HybridClock.WallTime(previousUntil), null, HybridClock.WallTime(version.Clock), HistoryChange.Deleted));
            }

            HistoryChange change = entry.Deleted ? HistoryChange.Deleted
                : previous is null || previous.Deleted || deletedBetween ? HistoryChange.Created
                : EntryCodec.ContentDiffers(previous, entry) ? HistoryChange.Content
                : HistoryChange.Attributes;
            versions.Add(new HistoryVersion(versions.Count + 1, EntryCodec.ToInfo(entry, version), entry.Deleted, HybridClock.WallTime(version.Clock), version.Origin,
                until == Tree.Current ? null : HybridClock.WallTime(until), change));
            previous = entry;
            previousUntil = until;
        }

        return versions;
    }

    /// <summary>The entry at <paramref name="path"/> as it was at <paramref name="at"/>, or null when there was none.</summary>
    public EntryInfo? StatAt(string path, DateTimeOffset at)
    {
        path = VolumePath.Normalize(path);
        if (path == VolumePath.Root)
        {
            return EntryInfo.ImplicitDirectory(path);
        }

        long clock = HybridClock.AtWallTime(at);
        if (_tree.FindAt(path, clock) is { } found)
        {
            return EntryCodec.ToInfo(found.Entry, found.Version);
        }

        // Entries below a directory can arrive before the directory's own record.
        return _tree.ChildrenAt(path, clock).Count > 0 ? EntryInfo.ImplicitDirectory(path) : null;
    }

    /// <summary>The entries directly in a directory as they were at <paramref name="at"/>, by name.</summary>
    public IReadOnlyList<EntryInfo> ListAt(string path, DateTimeOffset at)
    {
        path = VolumePath.Normalize(path);
        EntryInfo directory = StatAt(path, at) ?? throw new VolumeException(VolumeError.NotFound, $"{path} did not exist at {at:u}");
        if (!directory.IsDirectory)
        {
            throw new VolumeException(VolumeError.NotADirectory, $"{path} was not a directory at {at:u}");
        }

        return [.. _tree.ChildrenAt(path, HybridClock.AtWallTime(at)).Select(c => EntryCodec.ToInfo(c.Entry, c.Version))];
    }

    /// <summary>Deleted entries within <paramref name="path"/> that history can bring back: each one's last version and when it was deleted, by path.</summary>
    public IReadOnlyList<(EntryInfo Entry, DateTimeOffset DeletedAt)> Trash(string path) =>
        [.. _tree.Deleted(VolumePath.Normalize(path)).Select(d => (EntryCodec.ToInfo(d.Entry, d.Version), HybridClock.WallTime(d.DeletedAt)))];

    /// <summary>
    /// Brings <paramref name="path"/> back as it was at <paramref name="at"/>, at <paramref name="to"/> (default:
    /// where it was), as a new version: history keeps what is there now. With <paramref name="recursive"/>,
    /// a directory comes back with everything that was in it then (files deleted since included, with
    /// their modes and times); what was added since stays. Chunks are shared, not copied: a restore writes
    /// records only. Returns how many entries it restored (unchanged ones are not counted, and get no version).
    /// </summary>
    public int Restore(string path, DateTimeOffset at, string? to = null, bool recursive = false)
    {
        path = VolumePath.Normalize(path);
        EntryInfo then = StatAt(path, at) ?? throw new VolumeException(VolumeError.NotFound, $"{path} did not exist at {at.ToUniversalTime():u}");
        if (then.IsDirectory && !recursive && path != VolumePath.Root)
        {
            throw new VolumeException(VolumeError.IsADirectory, $"{path} was a directory then: restore it with -r, with everything in it");
        }

        var records = new List<SealedRecord>();
        int restored = RestoreTree(then, to is null ? path : VolumePath.Normalize(to), at, recursive, records);
        _broadcast.Push(records);
        return restored;
    }

    /// <summary>Brings back version <paramref name="number"/> of <paramref name="path"/> (see <see cref="History"/>), at <paramref name="to"/> (default: where it was).</summary>
    public EntryInfo RestoreVersion(string path, int number, string? to = null)
    {
        path = VolumePath.Normalize(path);
        HistoryVersion version = LiveVersion(path, number);

        if (version.Entry.IsDirectory)
        {
            Restore(path, version.At, to, recursive: true);
            return Stat(to ?? path)!;
        }

        string target = to is null ? path : VolumePath.Normalize(to);
        var records = new List<SealedRecord>();
        RestoreTree(version.Entry, target, version.At, recursive: false, records);
        _broadcast.Push(records);
        return Stat(target)!;
    }

    /// <summary>Version <paramref name="number"/> of <paramref name="path"/> (see <see cref="History"/>); NotFound when there is none or it is a deletion.</summary>
    public HistoryVersion LiveVersion(string path, int number)
    {
        path = VolumePath.Normalize(path);
        IReadOnlyList<HistoryVersion> versions = History(path);
        HistoryVersion version = versions.FirstOrDefault(v => v.Number == number)
            ?? throw new VolumeException(VolumeError.NotFound, $"{path} has no version {number} (history holds {versions.Count}: see nexnet history {path})");
        return version.Deleted
            ? throw new VolumeException(VolumeError.NotFound, $"version {number} of {path} is its deletion: restore the version before it")
            : version;
    }

    private int RestoreTree(EntryInfo then, string target, DateTimeOffset at, bool recursive, List<SealedRecord> records)
    {
        int restored = 0;
        if (target != VolumePath.Root)
        {
            EntryInfo? now = Stat(target);
            if (now is not null && now.IsDirectory != then.IsDirectory)
            {
                throw new VolumeException(now.IsDirectory ? VolumeError.IsADirectory : VolumeError.NotADirectory,
                    $"{target} is a {(now.IsDirectory ? "directory" : "file")} now; restore the {(then.IsDirectory ? "directory" : "file")} elsewhere with --to");
            }

            EnsureParents(target, Durability.Full);
            if (now is null || EntryCodec.ContentDiffers(EntryCodec.ToEntry(now), EntryCodec.ToEntry(then)) || now.Mode != then.Mode
                || (!then.IsDirectory && now.ModifiedAt != then.ModifiedAt))
            {
                Entry entry = EntryCodec.ToEntry(then with { Path = target });
                records.Add(_tree.Commit(entry));
                restored++;
                if (records.Count >= RestoreBatch)
                {
                    _broadcast.Push([.. records]);
                    records.Clear();
                }
            }
        }

        if (recursive && then.IsDirectory)
        {
            foreach (EntryInfo child in ListAt(then.Path, at))
            {
                restored += RestoreTree(child, VolumePath.Combine(target, child.Name), at, recursive, records);
            }
        }

        return restored;
    }

    /// <summary>Where front ends show the past at the volume's root (the mount and WebDAV): a folder per snapshot and per day of history.</summary>
    public const string MomentsDirectory = ".snapshots";

    /// <summary>
    /// The moments front ends offer as folders, by name: each snapshot by its name, and each day of
    /// retained history as YYYY-MM-DD (the volume at the end of that day, UTC; today's is the volume
    /// at <paramref name="now"/>). A snapshot wins a clash of names.
    /// </summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Moments(DateTimeOffset now)
    {
        var folders = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        long oldest = _tree.OldestVersionClock();
        if (oldest != 0)
        {
            for (DateTime day = HybridClock.WallTime(oldest).UtcDateTime.Date; day <= now.UtcDateTime.Date; day = day.AddDays(1))
            {
                DateTimeOffset end = new DateTimeOffset(day, TimeSpan.Zero).AddDays(1).AddTicks(-TimeSpan.TicksPerMillisecond);
                folders[day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)] = end < now ? end : now;
            }
        }

        foreach (VolumeSnapshot snapshot in Snapshots())
        {
            folders[snapshot.Name] = snapshot.At;
        }

        return folders;
    }

    /// <summary>
    /// What a path inside the moments folder names: a moment and the volume path below it ("/NAME/a/b" is
    /// /a/b at moment NAME), or null for the moments folder itself ("/"). An unknown name is NotFound.
    /// </summary>
    public (DateTimeOffset At, string Path)? ResolveMoment(string path, DateTimeOffset now)
    {
        path = VolumePath.Normalize(path);
        if (path == VolumePath.Root)
        {
            return null;
        }

        int slash = path.IndexOf('/', 1);
        string folder = slash < 0 ? path[1..] : path[1..slash];
        return Moments(now).TryGetValue(folder, out DateTimeOffset moment)
            ? (moment, slash < 0 ? VolumePath.Root : path[slash..])
            : throw new VolumeException(VolumeError.NotFound, $"no snapshot or day of history named {folder}");
    }

    /// <summary>Pins the whole volume as it is now, on every node, until <see cref="DeleteSnapshot"/>: pruning keeps every version current at this moment.</summary>
    public VolumeSnapshot CreateSnapshot(string name)
    {
        string path = SnapshotPathOf(name);
        if (_tree.Find(path) is { Entry.Deleted: false })
        {
            throw new VolumeException(VolumeError.AlreadyExists, $"a snapshot named {name} exists already");
        }

        Commit(NewEntry(path, EntryKind.Directory, EntryInfo.DefaultDirectoryMode), Durability.Full);
        return Snapshots().First(s => s.Name == name);
    }

    /// <summary>Lets go of a snapshot: the versions only it kept go at the next pruning.</summary>
    public void DeleteSnapshot(string name)
    {
        string path = SnapshotPathOf(name);
        if (_tree.Find(path) is not { Entry.Deleted: false } found)
        {
            throw new VolumeException(VolumeError.NotFound, $"there is no snapshot named {name} (see nexnet snapshot ls)");
        }

        Commit(Tombstone(EntryCodec.ToInfo(found.Entry, found.Version)), Durability.Full);
    }

    /// <summary>The snapshots, oldest first; each pins the volume as it was at its time.</summary>
    public IReadOnlyList<VolumeSnapshot> Snapshots() =>
        [.. _tree.Children(Tree.SnapshotDirectory).Select(e => new VolumeSnapshot(VolumePath.Name(e.Path), HybridClock.WallTime(e.Version.Clock))).OrderBy(s => s.At)];

    /// <summary>What history holds here.</summary>
    public HistoryTotals HistoryTotals()
    {
        (long versions, long chunks, long bytes) = _meta.HistoryTotals(ChunkSize);
        long oldest = _tree.OldestVersionClock();
        return new HistoryTotals(versions, chunks, bytes, oldest == 0 ? null : HybridClock.WallTime(oldest));
    }

    private static string SnapshotPathOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal) || name is "." or ".."
            || System.Text.Encoding.UTF8.GetByteCount(name) > VolumePath.MaxNameBytes)
        {
            throw new VolumeException(VolumeError.InvalidPath, $"a snapshot name is one path component (no '/', at most {VolumePath.MaxNameBytes} bytes): \"{name}\"");
        }

        return Tree.SnapshotPath(name);
    }
}
