namespace NexNet.Node.State;

/// <summary>
/// A place in history's replacement order (the version's <c>until</c> clock, then its row), from which
/// the next page of versions starts: rows deleted meanwhile do not move it, as an offset would.
/// </summary>
internal readonly record struct HistoryCursor(long Until, long Row);
