namespace NexNet.Node.Sync;

/// <summary>
/// The tree's past: every version of a path this node kept (NodeStore.History), the tree as it was at
/// any clock, the tombstones, and snapshots (records under a name no volume path can have, so they travel,
/// are signed and are kept like any other record, and no listing of the volume shows them).
/// </summary>
internal sealed partial class Tree
{
    /// <summary>Where snapshot records live: NUL is in no volume path (<see cref="VolumePath.Normalize"/>).</summary>
    public const string SnapshotDirectory = "\0snapshots";

    /// <summary>Clock value of "still current" for a version's end.</summary>
    public const long Current = long.MaxValue;

    public static string SnapshotPath(string name) => SnapshotDirectory + "/" + name;

    public static bool IsSnapshotPath(string path) =>
        path.StartsWith(SnapshotDirectory + "/", StringComparison.Ordinal) && path.IndexOf('/', SnapshotDirectory.Length + 1) < 0
        && path.Length > SnapshotDirectory.Length + 1 && path.IndexOf('\0', 1) < 0;

    /// <summary>Every version of <paramref name="path"/> this node kept, oldest first, the current one (if any) last, each with the clock that ended it.</summary>
    public IReadOnlyList<(Entry Entry, RecordVersion Version, long Until)> VersionsOf(string path)
    {
        ApplyPending();
        byte[] key = Sealer.RecordKey(path);
        var versions = new List<(Entry, RecordVersion, long)>();
        foreach (StoredVersion v in _meta.VersionsOf(key))
        {
            versions.Add((OpenVersion(v), new RecordVersion(v.Clock, NodeId.FromBytes(v.Origin)), v.Until));
        }

        if (_meta.GetRecord(key) is { } current)
        {
            versions.Add((OpenVersion(new StoredVersion(current.Key, current.Clock, current.Origin, current.Body, Current)),
                new RecordVersion(current.Clock, NodeId.FromBytes(current.Origin)), Current));
        }

        return versions;
    }

    /// <summary>The entry at <paramref name="path"/> as it was at <paramref name="at"/> (null: none then, or a tombstone).</summary>
    public (Entry Entry, RecordVersion Version)? FindAt(string path, long at)
    {
        ApplyPending();
        byte[] key = Sealer.RecordKey(path);
        StoredVersion? then = _meta.GetRecord(key) is { } current && current.Clock <= at
            ? new StoredVersion(current.Key, current.Clock, current.Origin, current.Body, Current)
            : _meta.VersionAt(key, at);
        if (then is null || OpenVersion(then) is not { Deleted: false } entry)
        {
            return null;
        }

        return (entry, new RecordVersion(then.Clock, NodeId.FromBytes(then.Origin)));
    }

    /// <summary>The live entries directly in <paramref name="directory"/> as they were at <paramref name="at"/>.</summary>
    public IReadOnlyList<(Entry Entry, RecordVersion Version)> ChildrenAt(string directory, long at)
    {
        ApplyPending();
        string parent = IndexKey(directory);
        var byPath = new Dictionary<string, (Entry, RecordVersion)>(StringComparer.Ordinal);
        IEnumerable<StoredVersion> candidates = _meta.CurrentIn(parent).Where(v => v.Clock <= at).Concat(_meta.VersionsIn(parent, at));
        foreach (StoredVersion v in candidates)
        {
            Entry entry = OpenVersion(v);
            var version = new RecordVersion(v.Clock, NodeId.FromBytes(v.Origin));
            if (!entry.Deleted && (!byPath.TryGetValue(entry.Path, out (Entry, RecordVersion Version) seen) || seen.Version < version))
            {
                byPath[entry.Path] = (entry, version);
            }
        }

        return [.. byPath.Values.OrderBy(e => e.Item1.Path, StringComparer.Ordinal)];
    }

    /// <summary>Every deleted path within <paramref name="directory"/> whose last live version history still holds: that version and when it was deleted.</summary>
    public IReadOnlyList<(Entry Entry, RecordVersion Version, long DeletedAt)> Deleted(string directory)
    {
        ApplyPending();
        var found = new List<(Entry, RecordVersion, long)>();
        foreach (StoredVersion tombstone in _meta.Tombstones())
        {
            Entry dead = OpenVersion(tombstone);
            if (IsSnapshotPath(dead.Path) || !VolumePath.IsWithin(dead.Path, directory) || dead.Path == directory)
            {
                continue;
            }

            StoredVersion? last = _meta.VersionsOf(tombstone.Key).LastOrDefault(v => v.Until == tombstone.Clock);
            if (last is not null && OpenVersion(last) is { Deleted: false } entry)
            {
                found.Add((entry, new RecordVersion(last.Clock, NodeId.FromBytes(last.Origin)), tombstone.Clock));
            }
        }

        return [.. found.OrderBy(f => f.Item1.Path, StringComparer.Ordinal)];
    }

    /// <summary>How long a version must have lived, on the device that replaced it, to be worth keeping even when it was an empty file or differs from its successor in attributes only.</summary>
    public static readonly TimeSpan Brief = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether the version the database holds for <paramref name="path"/> is worth keeping as history now
    /// that <paramref name="replacing"/> replaces it. Every version is, but a tombstone (restoring one is
    /// nothing; the version before it ends when it came, and keeping every tombstone a re-created path
    /// replaces made `tar x` over a deleted tree 12% slower) and the steps of one save on one device: one
    /// that lived under <see cref="Brief"/> before the same device replaced it, and was an empty file (a
    /// create or an O_TRUNC before the bytes) or had the same contents (a time or mode set just after the
    /// write, as tar and cp -p do). The rule reads only what every member holds
    /// alike, so every member keeps the same versions. Storage peers, which cannot read records, keep all.
    /// </summary>
    private bool KeepsReplaced(string path, Entry replacing, RecordVersion version)
    {
        if (_meta.HistoryRetention <= TimeSpan.Zero)
        {
            return false; // no history is kept at all: no need to look
        }

        EntryRow? row = _meta.GetEntry(IndexKey(path));
        if (row is { Deleted: true })
        {
            return false; // a tombstone is never wanted back: the version before it shows when it went (see Volume.History)
        }

        if (row is null || !row.Origin.AsSpan().SequenceEqual(version.Origin.ToBytes())
            || HybridClock.WallTime(version.Clock) - HybridClock.WallTime(row.Clock) >= Brief)
        {
            return true;
        }

        (Entry old, _) = Open(row);
        bool emptyFile = old.Kind == Entry.Types.Kind.File && old.Size == 0;
        return !(emptyFile || !EntryCodec.ContentDiffers(old, replacing));
    }

    /// <summary>The clocks snapshots pin (pruning keeps every version current at one of them).</summary>
    public IReadOnlyList<long> SnapshotClocks() => [.. Children(SnapshotDirectory).Select(e => e.Version.Clock)];

    /// <summary>The clock of the oldest version history holds (0: none).</summary>
    public long OldestVersionClock() => _meta.OldestVersionClock();

    private Entry OpenVersion(StoredVersion v) => Entry.Parser.ParseFrom(Sealer.Open(AssociatedData(v.Key, v.Clock, v.Origin), v.Body));
}
