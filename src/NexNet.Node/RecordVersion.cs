namespace NexNet.Node;

/// <summary>
/// The version of an entry record: a hybrid-clock timestamp and the node that wrote it. Versions are
/// totally ordered (clock first, origin id to break ties), so every node picks the same winner per path.
/// </summary>
public readonly record struct RecordVersion(long Clock, NodeId Origin) : IComparable<RecordVersion>
{
    public static RecordVersion None => default;

    public bool IsNone => Clock == 0;

    public int CompareTo(RecordVersion other)
    {
        int byClock = Clock.CompareTo(other.Clock);
        return byClock != 0 ? byClock : Origin.CompareTo(other.Origin);
    }

    public static bool operator <(RecordVersion left, RecordVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(RecordVersion left, RecordVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(RecordVersion left, RecordVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(RecordVersion left, RecordVersion right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Clock:x}@{Origin.Abbreviated}";
}
