namespace NexNet.Node;

/// <summary>
/// The data directory's disk as the node sees it: free bytes, the reserve the chunk store leaves for
/// commits and records, and whether the node is under pressure (free below twice the reserve), in which
/// case it has given up cached copies and the oldest history (<see cref="Relieved"/>: it did so at this measure).
/// </summary>
public sealed record SpaceState(long FreeBytes, long ReserveBytes, bool UnderPressure, bool Relieved)
{
    /// <summary>What chunks may still take: the free bytes less the reserve.</summary>
    public long AvailableBytes => Math.Max(0, FreeBytes - ReserveBytes);
}
