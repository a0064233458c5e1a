using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NexNet.Node.Internal;
using NexNet.P2P;

namespace NexNet.Node;

/// <summary>
/// The nodes chunk placement counts on: this node, every connected peer, and peers that dropped less
/// than <c>deadAfter</c> ago (a restart or a network blip must not move data around). A peer gone longer
/// is dropped and <see cref="Changed"/> fires, which starts repair; so does a peer that joins.
/// </summary>
internal sealed class Membership : IDisposable
{
    private readonly PeerNetwork _network;
    private readonly TimeSpan _deadAfter;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<NodeId, DateTimeOffset> _lastSeen = new();
    private readonly Timer _timer;
    private volatile NodeId[] _members;

    public Membership(PeerNetwork network, TimeSpan deadAfter, IEnumerable<NodeId> remembered, ILogger log)
    {
        _network = network;
        _deadAfter = deadAfter;
        _log = log;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (NodeId id in remembered)
        {
            if (id != network.Id)
            {
                _lastSeen[id] = now; // known before the restart: alive until proven gone
            }
        }

        _members = Compute();
        network.PeerConnected += OnConnected;
        network.PeerDisconnected += OnDisconnected;
        TimeSpan tick = TimeSpan.FromMilliseconds(Math.Clamp(deadAfter.TotalMilliseconds / 4, 50, 1000));
        _timer = new Timer(_ => Sweep(), null, tick, tick);
    }

    /// <summary>Raised when the member set changes (a node joined, or one was declared gone).</summary>
    public event Action? Changed;

    /// <summary>The current members, this node included.</summary>
    public IReadOnlyList<NodeId> Members => _members;

    private void OnConnected(PeerConnection peer)
    {
        bool isNew = !_lastSeen.ContainsKey(peer.RemoteId);
        _lastSeen[peer.RemoteId] = DateTimeOffset.MaxValue;
        if (isNew)
        {
            Log.NodeJoined(_log, peer.RemoteId.Abbreviated);
            Refresh();
        }
    }

    private void OnDisconnected(PeerConnection peer)
    {
        if (_network.Find(peer.RemoteId) is null)
        {
            _lastSeen[peer.RemoteId] = DateTimeOffset.UtcNow;
        }
    }

    private void Sweep()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        bool removed = false;
        foreach ((NodeId id, DateTimeOffset seen) in _lastSeen)
        {
            if (seen != DateTimeOffset.MaxValue && now - seen > _deadAfter && _network.Find(id) is null && _lastSeen.TryRemove(id, out _))
            {
                Log.NodeGone(_log, id.Abbreviated, (now - seen).TotalSeconds);
                removed = true;
            }
        }

        if (removed)
        {
            Refresh();
        }
    }

    private void Refresh()
    {
        _members = Compute();
        Changed?.Invoke();
    }

    private NodeId[] Compute() => [_network.Id, .. _lastSeen.Keys];

    public void Dispose()
    {
        _network.PeerConnected -= OnConnected;
        _network.PeerDisconnected -= OnDisconnected;
        _timer.Dispose();
    }
}
