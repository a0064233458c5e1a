using System.Net;
using System.Security.Cryptography;
using NexNet.IntegrationTests.Support;
using NexNet.P2P;

namespace NexNet.IntegrationTests.P2P;

/// <summary>An in-process node on 127.0.0.1 with port 0, its own identity and log, and short timeouts for tests.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    public static readonly byte[] DefaultSecret = RandomNumberGenerator.GetBytes(32);

    private TestNode(string name, PeerNetwork network, NodeIdentity identity, LogCapture log)
    {
        Name = name;
        Network = network;
        Identity = identity;
        Log = log;
    }

    public string Name { get; }

    public PeerNetwork Network { get; }

    public NodeIdentity Identity { get; }

    public LogCapture Log { get; }

    public string Address => Network.AdvertisedAddress;

    public static PeerOptions FastOptions() => new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        HeartbeatTimeout = TimeSpan.FromSeconds(1),
        HandshakeTimeout = TimeSpan.FromSeconds(3),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        GossipInterval = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    public static TestNode Start(string name, params string[] bootstrap) => Start(name, DefaultSecret, null, bootstrap);

    public static TestNode Start(string name, byte[] secret, PeerOptions? options, params string[] bootstrap)
    {
        var log = new LogCapture(name);
        NodeIdentity identity = NodeIdentity.CreateEphemeral();
        var network = new PeerNetwork(identity, secret, options ?? FastOptions(), log);
        network.Start(new IPEndPoint(IPAddress.Loopback, 0), bootstrap);
        return new TestNode(name, network, identity, log);
    }

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        Identity.Dispose();
    }
}
