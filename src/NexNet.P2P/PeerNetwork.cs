using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>
/// A node's view of the network: it listens, dials bootstrap and known addresses concurrently, learns
/// more addresses by gossip, keeps one connection per peer, reconnects with exponential backoff and
/// jitter, and remembers peers across restarts. The node layer registers request handlers per
/// message type and sends requests to peers by id.
/// </summary>
/// <remarks>
/// When two nodes dial each other at once, both keep the connection that the node with the lower id
/// initiated: each side decides alone and both decide the same.
/// </remarks>
public sealed partial class PeerNetwork : IPeerConnectionOwner, IAsyncDisposable
{
    /// <summary>Failed dials after which a gossiped (not bootstrap) address is forgotten.</summary>
    private const int ForgetAfterFailures = 8;

    private readonly NodeIdentity _identity;
    private readonly byte[] _proofKey;
    private readonly PeerOptions _options;
    private readonly ILogger _logger;
    private readonly IPeerBook? _knownPeers;
    private readonly ConcurrentDictionary<uint, PeerRequestHandler> _handlers = new();
    private readonly ConcurrentDictionary<uint, Action<PeerConnection, ReadOnlyMemory<byte>>> _messageHandlers = new();
    private readonly ConcurrentDictionary<NodeId, PeerConnection> _peers = new();
    private readonly ConcurrentDictionary<string, Dialer> _dialers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NodeId> _idByAddress = new(StringComparer.Ordinal);
    private readonly Lock _peersLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _handshakeSlots;
    private readonly Dictionary<IPAddress, int> _handshakesByAddress = [];

    /// <summary>Longest host:port taken from gossip (a DNS name is at most 253 characters).</summary>
    private const int MaxAddressLength = 262;
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _gossipLoop = Task.CompletedTask;

    public PeerNetwork(NodeIdentity identity, ReadOnlySpan<byte> networkSecret, PeerOptions? options = null, ILogger? logger = null, IPeerBook? knownPeers = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _identity = identity;
        _proofKey = Handshake.ProofKey(networkSecret);
        _options = options ?? new PeerOptions();
        _logger = logger ?? NullLogger.Instance;
        _knownPeers = knownPeers;
        _handshakeSlots = new SemaphoreSlim(_options.MaxPendingHandshakes);
    }

    public NodeId Id => _identity.Id;

    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>host:port others should dial (the bound address; empty when not listening).</summary>
    public string AdvertisedAddress { get; private set; } = "";

    public PeerOptions Options => _options;

    /// <summary>Raised when a peer gets its (first surviving) connection, and when it has none left.</summary>
    public event Action<PeerConnection>? PeerConnected;

    public event Action<PeerConnection>? PeerDisconnected;

    public IReadOnlyCollection<PeerConnection> Peers => [.. _peers.Values.Where(p => !p.IsClosed)];

    /// <summary>Addresses this node is keeping (or trying to keep) a connection to.</summary>
    public IReadOnlyCollection<string> DialingAddresses => [.. _dialers.Keys];

    public PeerConnection? Find(NodeId id) => _peers.TryGetValue(id, out PeerConnection? c) && !c.IsClosed ? c : null;

    /// <summary>Registers the handler for one request type (for every connection, present and future).</summary>
    public void Handle(uint type, PeerRequestHandler handler)
    {
        if (type < MessageType.FirstApplicationType)
        {
            throw new ArgumentOutOfRangeException(nameof(type), $"types below {MessageType.FirstApplicationType} belong to the network layer");
        }

        _handlers[type] = handler;
    }

    /// <summary>Registers the handler for one one-way message type.</summary>
    public void OnMessage(uint type, Action<PeerConnection, ReadOnlyMemory<byte>> handler)
    {
        if (type < MessageType.FirstApplicationType)
        {
            throw new ArgumentOutOfRangeException(nameof(type), $"types below {MessageType.FirstApplicationType} belong to the network layer");
        }

        _messageHandlers[type] = handler;
    }

    /// <summary>
    /// Sends a one-way message to every connected peer without waiting: a send fails only when its
    /// connection is closing, which is logged once elsewhere, and whoever is missed catches up another way.
    /// </summary>
    public void Broadcast(uint type, ReadOnlyMemory<byte> body)
    {
        foreach (PeerConnection peer in Peers)
        {
            peer.SendAsync(type, body).Forget();
        }
    }

    /// <summary>Sends a request to a connected peer.</summary>
    public Task<PeerResponse> RequestAsync(NodeId peer, uint type, ReadOnlyMemory<byte> body, Func<Stream, CancellationToken, Task>? writeBody = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        PeerConnection connection = Find(peer) ?? throw new IOException($"peer {peer.Abbreviated} is not connected");
        return connection.RequestAsync(type, body, writeBody, timeout, cancellationToken);
    }

    /// <summary>True while the node is offline: no connections in or out (see <see cref="SetOffline"/>).</summary>
    public bool IsOffline => !_online.Task.IsCompleted;

    /// <summary>
    /// Takes the node off the network (every connection closed, incoming ones refused, dialers paused)
    /// or back on it (dialers resume at once). A laptop on a plane; tests of edits made apart.
    /// </summary>
    public async Task SetOffline(bool offline)
    {
        if (offline)
        {
            if (_online.Task.IsCompleted)
            {
                _online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            foreach (PeerConnection peer in _peers.Values)
            {
                await peer.CloseAsync("going offline");
            }
        }
        else
        {
            _online.TrySetResult();
        }
    }

    /// <summary>Listens (when <paramref name="listen"/> is given), then dials the known and bootstrap addresses.</summary>
    public void Start(IPEndPoint? listen, IEnumerable<string>? bootstrap = null)
    {
        if (listen is not null)
        {
            var socket = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(listen);
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _listener = socket;
            LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
            AdvertisedAddress = $"{LocalEndPoint.Address}:{LocalEndPoint.Port}";
            _idByAddress[AdvertisedAddress] = Id;
            Log.Listening(_logger, AdvertisedAddress, Id);
            _acceptLoop = Task.Run(AcceptLoopAsync);
        }

        if (_knownPeers is not null)
        {
            foreach (KnownPeer peer in _knownPeers.Known(1000))
            {
                if (peer.Id != Id)
                {
                    AddAddress(peer.Address);
                }
            }
        }

        foreach (string address in bootstrap ?? [])
        {
            AddAddress(address, isBootstrap: true);
        }

        _gossipLoop = Task.Run(GossipLoopAsync);
    }

    private volatile TaskCompletionSource _online = CompletedOnline();

    private static TaskCompletionSource CompletedOnline()
    {
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        online.SetResult();
        return online;
    }

    private PeerConnection Admit(Handshake.Result handshake, string endPoint, bool isInitiator, string listenAddress)
    {
        if (IsOffline)
        {
            handshake.Tls.Dispose();
            throw new HandshakeException(HandshakeFailure.Refused, "this node is offline");
        }

        var connection = new PeerConnection(handshake.Tls, handshake.Reader, handshake.RemoteId, endPoint, isInitiator, _options, this, _logger)
        {
            RemoteListenAddress = listenAddress,
        };
        PeerConnection? loser = null;
        PeerConnection survivor = connection;
        bool first = false;
        lock (_peersLock)
        {
            if (_stopping.IsCancellationRequested)
            {
                // Stopping: DisposeAsync has taken (or is about to take, under this lock) the connections
                // to close, and one admitted now would outlive the network.
                handshake.Tls.Dispose();
                throw new HandshakeException(HandshakeFailure.Refused, "this node is stopping");
            }

            connection.Start();
            if (_peers.TryGetValue(handshake.RemoteId, out PeerConnection? existing) && !existing.IsClosed)
            {
                if (Preferred(connection, existing))
                {
                    _peers[handshake.RemoteId] = connection;
                    loser = existing;
                }
                else
                {
                    loser = connection;
                    survivor = existing;
                }
            }
            else
            {
                _peers[handshake.RemoteId] = connection;
                first = true;
            }
        }

        if (loser is not null)
        {
            _ = loser.CloseAsync("duplicate connection (the one initiated by the lower node id is kept)").AsTask();
        }

        if (survivor == connection)
        {
            Log.Connected(_logger, connection.RemoteId.Abbreviated, endPoint, isInitiator ? "outgoing" : "incoming");
            connection.SendAsync(MessageType.Welcome, new Welcome { ListenAddress = AdvertisedAddress }).Forget();
            if (first)
            {
                PeerConnected?.Invoke(connection);
            }

            BroadcastPeers();
            if (listenAddress.Length > 0)
            {
                Remember(connection.RemoteId, listenAddress);
            }
        }

        return survivor;
    }

    private bool Preferred(PeerConnection candidate, PeerConnection existing)
    {
        NodeId lower = Id < candidate.RemoteId ? Id : candidate.RemoteId;
        bool candidateFromLower = (candidate.IsInitiator ? Id : candidate.RemoteId) == lower;
        bool existingFromLower = (existing.IsInitiator ? Id : existing.RemoteId) == lower;
        return candidateFromLower != existingFromLower ? candidateFromLower : true; // same initiator: the newer replaces
    }

    // ------------------------------------------------------------------ IPeerConnectionOwner

    PeerRequestHandler? IPeerConnectionOwner.FindHandler(uint type) => _handlers.GetValueOrDefault(type);

    bool IPeerConnectionOwner.OnMessage(PeerConnection connection, Envelope envelope)
    {
        switch (envelope.Type)
        {
            case MessageType.Welcome:
                string address = Welcome.Parser.ParseFrom(envelope.Body).ListenAddress;
                if (address.Length > 0 && TryNormalise(address, connection, out string usable))
                {
                    connection.RemoteListenAddress = usable;
                    _idByAddress[usable] = connection.RemoteId;
                    Remember(connection.RemoteId, usable);
                    AddAddress(usable); // so that we reconnect if it drops, whichever side dialed
                    BroadcastPeers();
                }

                return true;
            case MessageType.Peers:
                // Gossip is a hint from a peer that may lie: only the first few addresses of a list are
                // looked at, and only so many gossiped addresses are dialed at once (the rest come round
                // again in the next gossip if they are real).
                foreach (PeerAddress peer in PeerList.Parser.ParseFrom(envelope.Body).Peers.Take(_options.MaxGossipAddresses))
                {
                    if (NodeId.TryFromBytes(peer.NodeId.Span, out NodeId id) && id != Id && Find(id) is null && peer.Address.Length is > 0 and <= MaxAddressLength
                        && !_dialers.ContainsKey(peer.Address) && _dialers.Count(d => d.Value.FromGossip && !d.Value.Connected) < _options.MaxGossipDialers)
                    {
                        AddDialer(peer.Address, isBootstrap: false, fromGossip: true);
                    }
                }

                return true;
        }

        if (_messageHandlers.TryGetValue(envelope.Type, out Action<PeerConnection, ReadOnlyMemory<byte>>? handler))
        {
            handler(connection, envelope.Body.Memory);
            return true;
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener?.Dispose();
        PeerConnection[] open;
        lock (_peersLock)
        {
            open = [.. _peers.Values]; // Admit refuses from now on: none can join after this
        }

        await Task.WhenAll(open.Select(p => p.DisposeAsync().AsTask()));
        await Task.WhenAll([_acceptLoop, _gossipLoop, .. _dialers.Values.Select(d => d.Loop)]).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _handshakeSlots.Dispose();
        _stopping.Dispose();
    }
}
