using System.Net;
using NexNet.Crypto;
using NexNet.Node.State;
using NexNet.P2P;
using NexNet.Tests.Shared;

namespace NexNet.TestHost;

/// <summary>
/// A network node as its own process, for tests that kill, freeze or flood it: identity and known peers
/// in DIR, network secret from DIR/network.key, listening on 127.0.0.1:0. Prints <c>listening ADDR ID</c>,
/// then <c>peers N</c> whenever its peer count changes, then <c>rss KIB</c> (its peak) on request 101.
/// Answers request type 100 by echoing the body. Short heartbeats, as in the in-process tests.
/// </summary>
internal static class P2PNode
{
    public static async Task<int> RunAsync(string dir, string[] bootstrap)
    {
        using NodeIdentity identity = NodeIdentity.LoadOrCreate(dir);
        byte[] secret = KeyFile.Read(Path.Combine(dir, "network.key"));
        using NodeStore meta = NodeStore.OpenFile(Path.Combine(dir, "meta.db")); // the node's peer book, as a real node keeps it
        PeerOptions options = FastPeerOptions.Create();
        await using var network = new PeerNetwork(identity, secret, options, new StdoutLogger(), meta);
        network.Handle(100, (request, _) => Task.FromResult(new PeerReply(request.Body)));
        network.Handle(101, (_, _) => Task.FromResult(new PeerReply(BitConverter.GetBytes(ProcessMemory.PeakRssKib()))));
        int reported = -1;
        void Report()
        {
            int count = network.Peers.Count;
            if (Interlocked.Exchange(ref reported, count) != count)
            {
                StdoutLogger.Say($"peers {count}");
            }
        }

        network.PeerConnected += _ => Report();
        network.PeerDisconnected += _ => Report();
        network.Start(new IPEndPoint(IPAddress.Loopback, 0), bootstrap);
        StdoutLogger.Say($"listening {network.AdvertisedAddress} {network.Id}");

        // Runs until killed, or until stdin closes (the test's polite stop).
        await Task.Run(() => Console.In.ReadToEnd());
        return 0;
    }
}
