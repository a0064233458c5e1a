using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
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
public sealed class PeerNetwork : IPeerConnectionOwner, IAsyncDisposable
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

    /// <summary>Keeps a connection to whoever listens at <paramref name="address"/>: dials now, and again with backoff whenever it drops.</summary>
    public void AddAddress(string address, bool isBootstrap = false) => AddDialer(address, isBootstrap, fromGossip: false);

    private void AddDialer(string address, bool isBootstrap, bool fromGossip)
    {
        if (string.IsNullOrEmpty(address) || _stopping.IsCancellationRequested || (_idByAddress.TryGetValue(address, out NodeId id) && id == Id))
        {
            return;
        }

        var dialer = new Dialer(address, isBootstrap) { FromGossip = fromGossip };
        if (_dialers.TryAdd(address, dialer))
        {
            dialer.Loop = Task.Run(() => DialLoopAsync(dialer));
        }
    }

    /// <summary>One attempt: TCP connect, TLS, handshake. Returns the connection that survives (an existing one if this one loses to it).</summary>
    public async Task<PeerConnection> ConnectAsync(string address, CancellationToken cancellationToken = default)
    {
        (string host, int port) = ParseAddress(address);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        deadline.CancelAfter(_options.HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new HandshakeException(e is SocketException ? HandshakeFailure.Transport : HandshakeFailure.Timeout, $"cannot connect to {address}: {e.Message}", e);
        }

        string endPoint = socket.RemoteEndPoint?.ToString() ?? address;
        Handshake.Result result = await Handshake.InitiateAsync(new NetworkStream(socket, ownsSocket: true), _identity, _proofKey, deadline.Token, _options.AdvertisedProtocolVersion);
        _idByAddress[address] = result.RemoteId;
        return Admit(result, endPoint, isInitiator: true, listenAddress: address);
    }

    private static (string Host, int Port) ParseAddress(string address)
    {
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out int port) || port is <= 0 or > 65535)
        {
            throw new ArgumentException($"'{address}' is not host:port");
        }

        return (address[..colon].Trim('[', ']'), port);
    }

    private volatile TaskCompletionSource _online = CompletedOnline();

    private static TaskCompletionSource CompletedOnline()
    {
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        online.SetResult();
        return online;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                await _handshakeSlots.WaitAsync(_stopping.Token);
                socket = await _listener!.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                _handshakeSlots.Release();
                continue; // a connection that died in the backlog
            }
            catch (Exception e)
            {
                _handshakeSlots.Release();
                Log.Unexpected(_logger, "accepting a connection", e);
                continue;
            }

            if (IsOffline)
            {
                socket.Dispose();
                _handshakeSlots.Release();
                continue;
            }

            IPAddress? remote = (socket.RemoteEndPoint as IPEndPoint)?.Address;
            if (remote is not null && !TryTakeAddressSlot(remote))
            {
                Log.RefusedIncoming(_logger, socket.RemoteEndPoint?.ToString() ?? "?", $"{_options.MaxHandshakesPerAddress} handshakes from this address are already in progress");
                socket.Dispose();
                _handshakeSlots.Release();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await RespondAsync(socket);
                }
                finally
                {
                    if (remote is not null)
                    {
                        ReleaseAddressSlot(remote);
                    }

                    _handshakeSlots.Release();
                }
            });
        }
    }

    private bool TryTakeAddressSlot(IPAddress address)
    {
        lock (_handshakesByAddress)
        {
            int now = _handshakesByAddress.GetValueOrDefault(address);
            if (now >= _options.MaxHandshakesPerAddress)
            {
                return false;
            }

            _handshakesByAddress[address] = now + 1;
            return true;
        }
    }

    private void ReleaseAddressSlot(IPAddress address)
    {
        lock (_handshakesByAddress)
        {
            int left = _handshakesByAddress.GetValueOrDefault(address) - 1;
            if (left <= 0)
            {
                _handshakesByAddress.Remove(address);
            }
            else
            {
                _handshakesByAddress[address] = left;
            }
        }
    }

    private async Task RespondAsync(Socket socket)
    {
        string endPoint = socket.RemoteEndPoint?.ToString() ?? "?";
        socket.NoDelay = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_options.HandshakeTimeout);
        try
        {
            // A real peer's TLS ClientHello comes at once; a socket that stays silent is not holding a slot for long.
            using (var firstByte = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token))
            {
                firstByte.CancelAfter(_options.FirstByteTimeout);
                try
                {
                    if (await socket.ReceiveAsync(new byte[1], SocketFlags.Peek, firstByte.Token) == 0)
                    {
                        socket.Dispose();
                        return; // closed before it said anything: nothing worth a log line
                    }
                }
                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                {
                    socket.Dispose();
                    throw new HandshakeException(HandshakeFailure.Timeout, $"nothing received within {_options.FirstByteTimeout.TotalSeconds:F0} s of connecting");
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    throw new HandshakeException(HandshakeFailure.Transport, $"the connection failed before its first byte: {e.Message}", e);
                }
            }

            Handshake.Result result = await Handshake.RespondAsync(new NetworkStream(socket, ownsSocket: true), _identity, _proofKey, deadline.Token, _options.AdvertisedProtocolVersion);
            Admit(result, endPoint, isInitiator: false, listenAddress: "");
        }
        catch (HandshakeException e) when (!_stopping.IsCancellationRequested)
        {
            Log.RefusedIncoming(_logger, endPoint, e.Message);
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && e is HandshakeException or OperationCanceledException)
        {
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            Log.Unexpected(_logger, $"admitting the connection from {endPoint}", e);
        }
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

    private async Task DialLoopAsync(Dialer dialer)
    {
        TimeSpan delay = _options.ReconnectMinDelay;
        CancellationToken stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await _online.Task.WaitAsync(stopping);
                if (_idByAddress.TryGetValue(dialer.Address, out NodeId known))
                {
                    if (known == Id)
                    {
                        break;
                    }

                    if (Find(known) is { } live)
                    {
                        dialer.Connected = true;
                        await live.Completion.WaitAsync(stopping);
                        dialer.Connected = false;
                        delay = _options.ReconnectMinDelay;
                        continue;
                    }
                }

                try
                {
                    PeerConnection connection = await ConnectAsync(dialer.Address, stopping);
                    dialer.Failures = 0;
                    dialer.Connected = true;
                    delay = _options.ReconnectMinDelay;
                    await connection.Completion.WaitAsync(stopping);
                    dialer.Connected = false;
                    continue;
                }
                catch (HandshakeException e) when (e.Failure == HandshakeFailure.Self)
                {
                    _idByAddress[dialer.Address] = Id;
                    break;
                }
                catch (HandshakeException e) when (!stopping.IsCancellationRequested)
                {
                    dialer.Failures++;
                    if (dialer.Failures == 1 || e.Failure is HandshakeFailure.Authentication or HandshakeFailure.Version)
                    {
                        Log.DialFailed(_logger, dialer.Address, e.Message);
                    }
                    else
                    {
                        Log.DialRetry(_logger, dialer.Address, e.Message, (long)delay.TotalMilliseconds);
                    }

                    if (e.Failure is HandshakeFailure.Authentication or HandshakeFailure.Version)
                    {
                        delay = _options.ReconnectMaxDelay; // it will not change by itself: try rarely
                    }
                }
                catch (Exception e) when (!stopping.IsCancellationRequested && e is not OperationCanceledException)
                {
                    // A bug somewhere below must not leave this address undialed for good: say so, and retry.
                    dialer.Failures++;
                    Log.Unexpected(_logger, $"dialing {dialer.Address}", e);
                }

                if (!dialer.IsBootstrap && dialer.Failures >= ForgetAfterFailures)
                {
                    break;
                }

                double jitter = 0.5 + Random.Shared.NextDouble(); // 0.5x .. 1.5x, so retries of many nodes spread out
                await Task.Delay(delay * jitter, stopping);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _dialers.TryRemove(new KeyValuePair<string, Dialer>(dialer.Address, dialer));
        }
    }

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

    private sealed class Dialer(string address, bool isBootstrap)
    {
        public string Address { get; } = address;

        public bool IsBootstrap { get; } = isBootstrap;

        public int Failures { get; set; }

        /// <summary>Learned from a peer's gossip (what <see cref="PeerOptions.MaxGossipDialers"/> bounds while it is still trying).</summary>
        public bool FromGossip { get; init; }

        private volatile bool _connected;

        /// <summary>Its address has a live connection: it is waiting for it to drop, not dialing.</summary>
        public bool Connected
        {
            get => _connected;
            set => _connected = value;
        }

        public Task Loop { get; set; } = Task.CompletedTask;
    }
}
