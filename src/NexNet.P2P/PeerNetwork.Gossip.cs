using System.Net;
using Google.Protobuf;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>Gossip: every peer's listen address sent to every peer, and addresses learned that way dialed.</summary>
public sealed partial class PeerNetwork
{
    private async Task GossipLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.GossipInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                BroadcastPeers();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void BroadcastPeers()
    {
        PeerConnection[] peers = [.. Peers];
        var list = new PeerList();
        foreach (PeerConnection peer in peers)
        {
            if (peer.RemoteListenAddress.Length > 0)
            {
                list.Peers.Add(new PeerAddress { NodeId = ByteString.CopyFrom(peer.RemoteId.ToBytes()), Address = peer.RemoteListenAddress });
            }
        }

        foreach (PeerConnection peer in peers)
        {
            peer.SendAsync(MessageType.Peers, list).Forget();
        }
    }

    private void Remember(NodeId id, string address) => _knownPeers?.Remember(id, address, DateTimeOffset.UtcNow);

    /// <summary>A peer listening on 0.0.0.0 or [::] advertises that; others reach it at the address its connection came from.</summary>
    private static bool TryNormalise(string advertised, PeerConnection connection, out string usable)
    {
        usable = advertised;
        try
        {
            (string host, int port) = ParseAddress(advertised);
            if (host is "0.0.0.0" or "::" && IPEndPoint.TryParse(connection.RemoteEndPoint, out IPEndPoint? seen))
            {
                usable = new IPEndPoint(seen.Address, port).ToString();
            }

            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    void IPeerConnectionOwner.OnClosed(PeerConnection connection, string reason)
    {
        bool wasActive;
        lock (_peersLock)
        {
            wasActive = _peers.TryGetValue(connection.RemoteId, out PeerConnection? current) && current == connection;
            if (wasActive)
            {
                _peers.TryRemove(connection.RemoteId, out _);
            }
        }

        if (wasActive)
        {
            Log.Disconnected(_logger, connection.RemoteId.Abbreviated, connection.RemoteEndPoint, reason);
            PeerDisconnected?.Invoke(connection);
        }
    }
}
