namespace NexNet.Node;

/// <summary>
/// One version of a path in history: its number (1 the oldest kept), what it was (<see cref="Entry"/>;
/// a tombstone when <see cref="Deleted"/>), when and on which device it was made (null: a deletion the
/// path came back from, whose tombstone is not kept), when a newer version
/// replaced it (null: it is current), and what kind of change it was.
/// </summary>
public sealed record HistoryVersion(int Number, EntryInfo Entry, bool Deleted, DateTimeOffset At, NodeId? Device, DateTimeOffset? ReplacedAt, HistoryChange Change);

/// <summary>What a version changed against the one before it.</summary>
public enum HistoryChange
{
    /// <summary>The path appeared (first version kept, or after a deletion).</summary>
    Created,

    /// <summary>New contents (or a new kind, or a new link target).</summary>
    Content,

    /// <summary>Only mode, time or properties.</summary>
    Attributes,

    Deleted,
}

/// <summary>A named moment of the whole volume that history keeps until the snapshot is deleted.</summary>
public sealed record VolumeSnapshot(string Name, DateTimeOffset At);

/// <summary>
/// What history holds on this node: versions kept, and the chunks only history references (with their
/// bytes: the blob's size where this node stores it, a full chunk where it does not).
/// </summary>
public sealed record HistoryTotals(long Versions, long Chunks, long Bytes, DateTimeOffset? Oldest);
