namespace NexNet.Node;

/// <summary>
/// One peer as an operator sees it: who, where, how far (round trip), and whether this node has caught
/// up with its records. A dialed address with no connection yet has no id.
/// </summary>
public sealed record PeerState(string? Id, string Address, string State, TimeSpan? RoundTrip, DateTimeOffset? CaughtUp);
