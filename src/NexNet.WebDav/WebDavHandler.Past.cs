namespace NexNet.WebDav;

/// <summary>
/// The past over WebDAV, as in the mount: <c>/.snapshots</c> (not listed in the root, reachable by name)
/// holds a folder per snapshot and per day of history, each the volume as it was then, so Explorer and
/// Finder users can browse an old version and copy it back. Read-only: only OPTIONS, GET, HEAD, PROPFIND
/// and a COPY out of it are served there; anything else is 403.
/// </summary>
internal sealed partial class WebDavHandler
{
    private const string MomentsRoot = "/" + Volume.MomentsDirectory;

    private const uint ReadOnlyDirectory = 0b101_101_101; // 0555

    /// <summary>The path inside the moments folder ("/" for the folder itself), or null for a live path.</summary>
    private static string? InMoments(string path) =>
        path == MomentsRoot ? "/" : path.StartsWith(MomentsRoot + "/", StringComparison.Ordinal) ? path[MomentsRoot.Length..] : null;

    /// <summary>True when a request may not run on <paramref name="path"/>: a change inside the past, or a COPY or MOVE into it.</summary>
    private static bool RefusedInPast(HttpContext context, string path)
    {
        string method = context.Request.Method;
        if (method is "OPTIONS" or "GET" or "HEAD" or "PROPFIND")
        {
            return false;
        }

        if (method is "COPY" or "MOVE" && Uri.TryCreate(context.Request.Headers["Destination"].ToString(), UriKind.Absolute, out Uri? destination)
            && InMoments(PathOf(destination.AbsolutePath)) is not null)
        {
            return true;
        }

        return InMoments(path) is not null && method != "COPY";
    }

    /// <summary>The entry at a path, live or (inside the moments folder) as it was then, with the path it has here.</summary>
    private EntryInfo? Stat(string path)
    {
        if (InMoments(path) is not { } inside)
        {
            return volume.Stat(path);
        }

        if (volume.ResolveMoment(inside, DateTimeOffset.UtcNow) is not { } moment)
        {
            return Folder(MomentsRoot, DateTimeOffset.UtcNow);
        }

        EntryInfo? entry = volume.StatAt(moment.Path, moment.At);
        return entry is null ? null : Rebased(entry, path[..(path.Length - (moment.Path == VolumePath.Root ? 0 : moment.Path.Length))], moment.At);
    }

    /// <summary>The entries in a directory, live or as it was then, with the paths they have here.</summary>
    private IReadOnlyList<EntryInfo> List(string path)
    {
        if (InMoments(path) is not { } inside)
        {
            return volume.List(path);
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (volume.ResolveMoment(inside, now) is not { } moment)
        {
            return [.. volume.Moments(now).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => Folder(MomentsRoot + "/" + m.Key, m.Value))];
        }

        string prefix = path[..(path.Length - (moment.Path == VolumePath.Root ? 0 : moment.Path.Length))];
        return [.. volume.ListAt(moment.Path, moment.At).Select(e => Rebased(e, prefix, moment.At))];
    }

    /// <summary>A past entry under the moment folder <paramref name="prefix"/> (an implicit directory gets the moment as its time).</summary>
    private static EntryInfo Rebased(EntryInfo entry, string prefix, DateTimeOffset at) => entry with
    {
        Path = entry.Path == VolumePath.Root ? prefix : prefix + entry.Path,
        ModifiedAt = entry.Version.IsNone ? at : entry.ModifiedAt,
    };

    private static EntryInfo Folder(string path, DateTimeOffset at) => new(path, EntryKind.Directory, 0, ReadOnlyDirectory, at, RecordVersion.None, null, null);
}
