using System.Net;
using System.Security.Cryptography;
using NexNet.P2P;

namespace NexNet.IntegrationTests.P2P;

/// <summary>An in-process node on 127.0.0.1 with port 0, its own identity and log, and short timeouts for tests.</summary>
internal sealed class InProcessPeer : IAsyncDisposable
{
    private InProcessPeer(string name, PeerNetwork network, NodeIdentity identity, LogCapture log)
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

    public static PeerOptions FastOptions() => FastPeerOptions.Create();

    /// <summary>A network secret of a test's own: nodes of other tests, running beside it, cannot join its network.</summary>
    public static byte[] NewNetwork() => RandomNumberGenerator.GetBytes(32);

    public static InProcessPeer Start(string name, byte[] secret, params string[] bootstrap) => Start(name, secret, null, bootstrap);

    public static InProcessPeer Start(string name, byte[] secret, PeerOptions? options, params string[] bootstrap)
    {
        var log = new LogCapture(name);
        NodeIdentity identity = NodeIdentity.CreateEphemeral();
        var network = new PeerNetwork(identity, secret, options ?? FastOptions(), log);
        network.Start(new IPEndPoint(IPAddress.Loopback, 0), bootstrap);
        return new InProcessPeer(name, network, identity, log);
    }

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        Identity.Dispose();
    }
}
