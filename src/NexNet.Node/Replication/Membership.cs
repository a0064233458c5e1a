namespace NexNet.Node.Replication;

/// <summary>
/// The nodes chunk placement counts on: this node, every connected peer, and peers that dropped less
/// than <c>deadAfter</c> ago (a restart or a network blip must not move data around). A peer gone longer
/// is dropped and <see cref="Changed"/> fires, which starts repair; so does a peer that joins.
/// </summary>
/// <remarks>
/// The network raises its connected and disconnected events from whichever threads admit and close
/// connections, so they can arrive out of order: a connection the other side closes at once (the loser
/// of two simultaneous dials) can report its close before its arrival. Each event therefore only says
/// "look again": under one lock, the peer's entry is set from whether it is connected now, and any
/// change to the set of members is published. Whatever the order, the last look sees the truth.
/// </remarks>
internal sealed class Membership : IDisposable
{
    private readonly PeerNetwork? _network;
    private readonly NodeId _self;
    private readonly Func<NodeId, bool> _isConnected;
    private readonly TimeSpan _deadAfter;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private readonly Dictionary<NodeId, DateTimeOffset> _lastSeen = [];
    private readonly Timer? _timer;
    private volatile NodeId[] _members;

    public Membership(PeerNetwork network, TimeSpan deadAfter, IEnumerable<NodeId> remembered, ILogger log)
        : this(network.Id, id => network.Find(id) is not null, deadAfter, remembered, log)
    {
        _network = network;
        network.PeerConnected += OnPeerEvent;
        network.PeerDisconnected += OnPeerEvent;
        TimeSpan tick = TimeSpan.FromMilliseconds(Math.Clamp(deadAfter.TotalMilliseconds / 4, 50, 1000));
        _timer = new Timer(_ => Sweep(), null, tick, tick);
    }

    /// <summary>Membership over any connectivity test, driven by <see cref="Look"/> and <see cref="Sweep"/> (unit tests).</summary>
    internal Membership(NodeId self, Func<NodeId, bool> isConnected, TimeSpan deadAfter, IEnumerable<NodeId> remembered, ILogger log)
    {
        _self = self;
        _isConnected = isConnected;
        _deadAfter = deadAfter;
        _log = log;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (NodeId id in remembered)
        {
            if (id != self)
            {
                _lastSeen[id] = now; // known before the restart: alive until proven gone
            }
        }

        _members = Compute();
    }

    /// <summary>Raised when the member set changes (a node joined, or one was declared gone).</summary>
    public event Action? Changed;

    /// <summary>The current members, this node included.</summary>
    public IReadOnlyList<NodeId> Members => _members;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<NodeId, DateTimeOffset> _fullUntil = new();

    /// <summary>
    /// The members chunks are placed on: <see cref="Members"/> less those that refused chunks for want of
    /// room lately (<see cref="MarkFull"/>), so a full node's share goes to the next owner by rendezvous
    /// hashing. A full node is a member still: it serves what it holds and comes back when its mark expires.
    /// </summary>
    public IReadOnlyList<NodeId> PlacementMembers
    {
        get
        {
            if (_fullUntil.IsEmpty)
            {
                return _members;
            }

            DateTimeOffset now = DateTimeOffset.UtcNow;
            foreach ((NodeId id, DateTimeOffset until) in _fullUntil)
            {
                if (until <= now)
                {
                    _fullUntil.TryRemove(new KeyValuePair<NodeId, DateTimeOffset>(id, until));
                }
            }

            return [.. _members.Where(m => !_fullUntil.ContainsKey(m))];
        }
    }

    /// <summary>Leaves <paramref name="peer"/> out of chunk placement for <paramref name="duration"/>: it refused chunks for want of room. True when it was not marked already.</summary>
    public bool MarkFull(NodeId peer, TimeSpan duration)
    {
        bool fresh = !_fullUntil.ContainsKey(peer);
        _fullUntil[peer] = DateTimeOffset.UtcNow + duration;
        return fresh;
    }

    private void OnPeerEvent(PeerConnection peer) => Look(peer.RemoteId);

    /// <summary>A connection to <paramref name="peer"/> came or went: records whether it is connected now.</summary>
    internal void Look(NodeId peer)
    {
        bool joined;
        lock (_lock)
        {
            bool connected = _isConnected(peer);
            joined = !_lastSeen.TryGetValue(peer, out DateTimeOffset seen);
            if (connected)
            {
                _lastSeen[peer] = DateTimeOffset.MaxValue;
            }
            else if (joined || seen == DateTimeOffset.MaxValue)
            {
                _lastSeen[peer] = DateTimeOffset.UtcNow; // the dead-after clock starts when it was last connected
            }

            if (joined)
            {
                _members = Compute();
            }
        }

        if (joined)
        {
            Log.NodeJoined(_log, peer.Abbreviated);
            Changed?.Invoke();
        }
    }

    /// <summary>Drops peers that have been disconnected longer than dead-after.</summary>
    internal void Sweep()
    {
        var gone = new List<(NodeId Id, double Seconds)>();
        lock (_lock)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            foreach ((NodeId id, DateTimeOffset seen) in _lastSeen)
            {
                if (seen != DateTimeOffset.MaxValue && now - seen > _deadAfter && !_isConnected(id))
                {
                    gone.Add((id, (now - seen).TotalSeconds));
                }
            }

            foreach ((NodeId id, _) in gone)
            {
                _lastSeen.Remove(id);
            }

            if (gone.Count > 0)
            {
                _members = Compute();
            }
        }

        foreach ((NodeId id, double seconds) in gone)
        {
            Log.NodeGone(_log, id.Abbreviated, seconds);
        }

        if (gone.Count > 0)
        {
            Changed?.Invoke();
        }
    }

    private NodeId[] Compute() => [_self, .. _lastSeen.Keys];

    public void Dispose()
    {
        if (_network is not null)
        {
            _network.PeerConnected -= OnPeerEvent;
            _network.PeerDisconnected -= OnPeerEvent;
        }

        _timer?.Dispose();
    }
}
