namespace NexNet.Node.Sync;

/// <summary>
/// When two members changed one path concurrently, the newer version wins everywhere and the other is
/// kept beside it as <c>name.conflict-DATE-NODE.ext</c>, so nothing either member wrote is lost. Every
/// member that sees the conflict makes the same copy (same name, same contents); the first one's record
/// wins and the others are the same version again.
/// </summary>
internal sealed class ConflictCopies(Tree tree, RecordBroadcast broadcast, ILogger log)
{
    /// <summary>Commits a copy of each losing version that has none yet, and pushes them.</summary>
    public void Keep(IReadOnlyList<EntryInfo> losers)
    {
        if (losers.Count == 0)
        {
            return;
        }

        var records = new List<SealedRecord>();
        foreach (EntryInfo loser in losers)
        {
            string copy = NameFor(loser);
            if (tree.Find(copy) is { Entry.Deleted: false } || tree.HasChildren(copy))
            {
                continue;
            }

            records.Add(tree.Commit(EntryCodec.ToEntry(loser with { Path = copy })));
            Log.ConflictCopy(log, loser.Path, copy);
        }

        broadcast.Push(records);
    }

    /// <summary>The copy's path: beside the original, named by the losing version's time and node.</summary>
    internal static string NameFor(EntryInfo loser)
    {
        string name = loser.Name;
        int dot = name.LastIndexOf('.');
        (string stem, string ext) = dot > 0 ? (name[..dot], name[dot..]) : (name, "");
        string date = HybridClock.WallTime(loser.Version.Clock).ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        return VolumePath.Combine(VolumePath.Parent(loser.Path), $"{stem}.conflict-{date}-{loser.Version.Origin.Abbreviated}{ext}");
    }
}
