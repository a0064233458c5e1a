using NexNet.P2P;

namespace NexNet.Tests.Shared;

/// <summary>Network timeouts short enough for tests (heartbeat timeout 1 s), the same in-process and in child processes.</summary>
internal static class FastPeerOptions
{
    public static PeerOptions Create() => new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        HeartbeatTimeout = TimeSpan.FromSeconds(1),
        HandshakeTimeout = TimeSpan.FromSeconds(3),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        GossipInterval = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };
}
