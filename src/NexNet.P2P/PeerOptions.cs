namespace NexNet.P2P;

/// <summary>Timeouts and bounds of the network layer. The defaults suit a LAN or loopback; tests shorten them.</summary>
public sealed class PeerOptions
{
    public const int ProtocolVersion = 1;

    /// <summary>The version this node claims in its Hello; always <see cref="ProtocolVersion"/> except in tests of mismatches.</summary>
    internal uint AdvertisedProtocolVersion { get; set; } = ProtocolVersion;

    /// <summary>TCP connect plus TLS plus Hello and proofs; a peer that stalls longer is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often each side pings; any frame counts as a sign of life.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A connection with no frame for this long is dead and closed.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bytes a stream's sender may have in flight before the receiver grants more (per stream, per direction).</summary>
    public int StreamWindow { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Streams a peer may have open on one connection at once; each may hold up to one window unread, so
    /// this times <see cref="StreamWindow"/> bounds what one peer can make this node buffer.
    /// </summary>
    public int MaxStreamsPerConnection { get; set; } = 32;

    /// <summary>Handshakes in progress at once on the listener; further connections wait in the backlog.</summary>
    public int MaxPendingHandshakes { get; set; } = 64;

    /// <summary>
    /// Handshakes in progress at once from one remote IP address: more are closed at accept, so one host
    /// holding sockets open cannot take the slots every other host needs.
    /// </summary>
    public int MaxHandshakesPerAddress { get; set; } = 8;

    /// <summary>How long an accepted connection may stay silent before its first byte (a TLS ClientHello comes at once).</summary>
    public TimeSpan FirstByteTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Requests one peer may have this node serving at once on one connection; more are answered at once
    /// with a "busy" error, so a peer that never reads its replies holds a bounded amount of this node.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 32;

    /// <summary>Addresses taken from one gossiped peer list; the rest of the list is ignored.</summary>
    public int MaxGossipAddresses { get; set; } = 32;

    /// <summary>Dialers to gossiped (not bootstrap) addresses running at once; addresses learned past it wait for the next gossip round.</summary>
    public int MaxGossipDialers { get; set; } = 16;

    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the peer list is sent to every peer (it is also sent at once on every new connection).</summary>
    public TimeSpan GossipInterval { get; set; } = TimeSpan.FromSeconds(5);
}
