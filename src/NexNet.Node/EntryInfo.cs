namespace NexNet.Node;

/// <summary>
/// What the volume knows of one path: its kind, size, mode and time, its version, and for a file the
/// chunks that hold it. Immutable: a change makes a new version, so a reader holding an EntryInfo keeps
/// reading the bytes it opened.
/// </summary>
public sealed record EntryInfo(string Path, EntryKind Kind, long Size, uint Mode, DateTimeOffset ModifiedAt, RecordVersion Version,
    ChunkList? Content, string? Target)
{
    public string Name => VolumePath.Name(Path);

    public bool IsDirectory => Kind == EntryKind.Directory;

    /// <summary>
    /// Properties clients attach (WebDAV's dead properties: <c>{namespace}name</c> to the element's XML).
    /// Part of the sealed record, so they are encrypted, replicated and move with the entry.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Properties { get; init; }

    /// <summary>A directory that has no record of its own but has entries below it (they arrived before it), or the root.</summary>
    internal static EntryInfo ImplicitDirectory(string path) =>
        new(path, EntryKind.Directory, 0, DefaultDirectoryMode, DateTimeOffset.UnixEpoch, RecordVersion.None, null, null);

    public const uint DefaultFileMode = 0b110_100_100; // 0644

    public const uint DefaultDirectoryMode = 0b111_101_101; // 0755
}
