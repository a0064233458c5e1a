namespace NexNet.P2P;

/// <summary>
/// Where the network remembers the peers it has been connected to, so it finds them again after a
/// restart. The network owns what it needs; the node above keeps it (in its metadata database).
/// </summary>
public interface IPeerBook
{
    /// <summary>
    /// Remembers (or refreshes) where <paramref name="id"/> listens. Best effort: a failure to remember is
    /// the implementation's to log or drop, never a reason to fail a connection, so this does not throw.
    /// </summary>
    void Remember(NodeId id, string address, DateTimeOffset seen);

    /// <summary>Remembered peers, most recently seen first.</summary>
    IReadOnlyList<KnownPeer> Known(int limit);
}

/// <summary>A remembered peer: its id, the address it listened on, and when it was last connected.</summary>
public readonly record struct KnownPeer(NodeId Id, string Address, DateTimeOffset LastSeen);
