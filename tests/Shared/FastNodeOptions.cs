using System.Net;
using NexNet.Node;

namespace NexNet.Tests.Shared;

/// <summary>Node timers short enough for tests, the same in-process and in child processes.</summary>
internal static class FastNodeOptions
{
    public static NodeOptions Create(IEnumerable<string>? bootstrap = null, int replicationFactor = 3) => new()
    {
        Listen = new IPEndPoint(IPAddress.Loopback, 0),
        Bootstrap = [.. bootstrap ?? []],
        ReplicationFactor = replicationFactor,
        DeadAfter = TimeSpan.FromSeconds(3),
        SyncInterval = TimeSpan.FromMilliseconds(300),
        ReplicationRetry = TimeSpan.FromMilliseconds(500),
        FetchTimeout = TimeSpan.FromSeconds(5),
        Peer = FastPeerOptions.Create(),
    };
}
