using Microsoft.Extensions.Logging.Abstractions;

namespace NexNet.Node;

/// <summary>
/// One node: its data directory opened (identity, secrets, metadata, blobs), its network running, and
/// the services on top — tree sync, replication and repair, fetch on miss, collection — wired together.
/// With a volume key it is a member and offers the <see cref="Volume"/>; with only the network secret
/// it is a storage peer that keeps and serves ciphertext and records it cannot read.
/// </summary>
/// <remarks>
/// Data directory: <c>node.key</c>/<c>node.crt</c> (identity), <c>network.key</c> (required),
/// <c>volume.key</c> (members only), <c>meta.db</c>, <c>blobs/</c>. Key files are 0600 and never logged.
/// </remarks>
public sealed class NexNetNode : IAsyncDisposable
{
    public const string NetworkKeyFile = "network.key";
    public const string VolumeKeyFile = "volume.key";

    /// <summary>A storage peer's copy of the volume's public signing key (65 bytes), from its storage-only invite.</summary>
    public const string VolumePublicKeyFile = "volume.pub";

    private readonly NodeIdentity _identity;
    private readonly NodeStore _meta;
    private readonly BlobStore _blobs;
    private readonly VolumeKeys? _keys;
    private readonly BlobCipher? _cipher;
    private readonly RecordSealer? _sealer;
    private readonly VolumeSigner? _signer;
    private readonly VolumeVerifier? _publicKey;
    private readonly PeerNetwork _network;
    private readonly Membership _membership;
    private readonly Tree _tree;
    private readonly TreeSync _sync;
    private readonly Replicator _replicator;
    private readonly ChunkFetcher? _fetcher;
    private readonly ReplicaVerifier? _verifier;
    private readonly Collector? _collector;
    private readonly HistoryRetention _history;
    private readonly SpacePressure? _pressure;
    private readonly HistoryCopyRelease? _historyCopies;
    private readonly DeferredCollection? _deferredCollection;
    private readonly CacheEviction? _cache;
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _storageQuota;

    private NexNetNode(string dataDirectory, NodeOptions options, ILogger log)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(DataDirectory);
        byte[] networkSecret = KeyFile.Read(Path.Combine(DataDirectory, NetworkKeyFile));
        string volumeKeyPath = Path.Combine(DataDirectory, VolumeKeyFile);
        if (File.Exists(volumeKeyPath))
        {
            byte[] volumeSecret = KeyFile.Read(volumeKeyPath);
            _keys = VolumeKeys.Derive(volumeSecret);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(volumeSecret);
            _cipher = new BlobCipher(_keys);
            _sealer = new RecordSealer(_keys);
            _signer = VolumeSigner.Create(_keys);
        }
        else
        {
            _publicKey = ReadVolumePublicKey(DataDirectory);
        }

        _identity = NodeIdentity.LoadOrCreate(DataDirectory);
        HistoryRetention = options.HistoryRetention;
        _meta = NodeStore.OpenFile(Path.Combine(DataDirectory, "meta.db"));
        _meta.HistoryRetention = options.HistoryRetention;
        _blobs = new BlobStore(Path.Combine(DataDirectory, "blobs"));
        long disk = new DriveInfo(_blobs.Directory).TotalSize;
        _blobs.Reserve = options.SpaceReserve > 0 ? options.SpaceReserve : Math.Min(Math.Clamp(disk / 10, 8L << 20, 256L << 20), disk / 4);
        _network = new PeerNetwork(_identity, networkSecret, options.Peer, log, knownPeers: _meta);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(networkSecret);

        var transfer = new BlobTransfer(_blobs, _meta.Blobs, BlobFormat.SealedLength(options.ChunkSize));
        _membership = new Membership(_network, options.DeadAfter, _meta.Known(1000).Select(p => p.Id), log);
        _storageQuota = options.StorageQuota;
        if (_cipher is not null)
        {
            _fetcher = new ChunkFetcher(_network, _membership, _blobs, transfer, ChunkService.CheckFor(_cipher), options.ReplicationFactor, options.FetchTimeout, log,
                _stopping.Token);
            // A pushed replica that fails its check is deleted, and this node, an owner, fetches a good copy back at once.
            _verifier = new ReplicaVerifier(_blobs, _meta, _cipher, transfer.MaxBlobLength, options.ReplicaCheckDelay, log, onRejected: _fetcher.Prefetch);
        }

        // Serves peers' chunk requests (it registers its handlers with the network).
        var chunkService = new ChunkService(_network, _blobs, _meta, transfer, _cipher, _verifier, new SignedNotices(_publicKey ?? _signer?.Verifier, options.MaxClockSkew),
            _cipher is null ? options.StorageQuota : 0, _cipher is null ? options.HistoryRetention : TimeSpan.Zero, log);
        _replicator = new Replicator(_network, _membership, _meta, _blobs, transfer, options.ReplicationFactor, options.ReplicationRetry, _cipher, _signer, log);
        var broadcast = new RecordBroadcast(_network);
        _tree = new Tree(_meta, _network.Id, new HybridClock(maxSkew: options.MaxClockSkew), _sealer, _signer, _publicKey, log,
            Path.Combine(DataDirectory, "commits.journal"), _replicator, broadcast);
        _sync = new TreeSync(_network, _tree, _meta, options.SyncInterval, _cipher is null ? null : new ConflictCopies(_tree, broadcast, log), log);
        if (_cipher is not null)
        {
            ReplicaVerifier verifier = _verifier!;
            var holds = new ChunkHolds();
            // A chunk just stored is indexed a moment before it is queued for replication: eviction waits a minute (or the grace, if shorter).
            TimeSpan minimumAge = options.CollectionGrace < TimeSpan.FromMinutes(1) ? options.CollectionGrace : TimeSpan.FromMinutes(1);
            _cache = new CacheEviction(options.CacheLimit, minimumAge, _network.Id, () => _membership.Members, options.ReplicationFactor, _meta, _blobs, holds, log);
            _collector = new Collector(_network, _meta, _blobs, holds, _tree.ApplyPending, _cache, _signer!, options.CollectionGrace, options.CollectionInterval, log);
            var chunks = new ChunkStore(_blobs, _cipher, _meta.Blobs, options.ChunkSize, beforeReuse: id => verifier.EnsureVerified(id));
            var discard = new ChunkDiscard(holds, _meta, _blobs, _tree.ApplyPending);
            Func<IReadOnlyList<long>> pins = _tree.SnapshotClocks;
            _historyCopies = new HistoryCopyRelease(_meta, _blobs, _replicator.ProvenElsewhereAsync, discard.DropCopies, options.ReplicationFactor, log);
            bool Alone() => _membership.Members.Count == 1 && _meta.Known(1).Count == 0;
            _pressure = new SpacePressure(_blobs, _meta, _cache, pins, ids => discard.Discard(ids, releaseHolds: false).Bytes, _historyCopies, Alone, log);
            Volume = new Volume(_tree, chunks, _meta, _replicator, _fetcher!, verifier, broadcast, holds, _cache, discard, _pressure, options.ReadAhead);
            _history = new HistoryRetention(_meta, options.HistoryMaxBytes, options.ChunkSize, pins,
                options.CollectionInterval, log, _pressure);
            _tree.ReplayJournal();
            _tree.SignUnsigned(); // records stored before they were signed (node schema 5)
        }
        else
        {
            // A storage peer cannot read snapshots: it keeps the records' history for the retention alone,
            // and what members collect, for the retention too.
            _history = new HistoryRetention(_meta, 0, options.ChunkSize, () => [], options.CollectionInterval, log);
            _deferredCollection = new DeferredCollection(_meta, chunkService, options.CollectionInterval, log);
            if (_publicKey is null)
            {
                Internal.Log.NoVolumePublicKey(log);
            }
        }

        _network.Start(options.Listen, options.Bootstrap);
    }

    /// <summary>A storage peer's <see cref="VolumePublicKeyFile"/>, or null when it has none (it was set up before records were signed).</summary>
    private static VolumeVerifier? ReadVolumePublicKey(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, VolumePublicKeyFile);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] key = File.ReadAllBytes(path);
        try
        {
            return new VolumeVerifier(key);
        }
        catch (IntegrityException e)
        {
            throw new IntegrityException($"{path} is not a volume public key: {e.Message}");
        }
    }

    /// <summary>The volume's public signing key, for a storage-only invite (null on a storage peer without one).</summary>
    public byte[]? VolumePublicKey => _signer?.PublicKey ?? _publicKey?.PublicKey;

    /// <summary>Opens the data directory and starts the node: listening, dialing, syncing, replicating.</summary>
    public static NexNetNode Start(string dataDirectory, NodeOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return new NexNetNode(dataDirectory, options ?? new NodeOptions(), logger ?? NullLogger.Instance);
    }

    public string DataDirectory { get; }

    /// <summary>The check of pushed replicas, on a member (tests).</summary>
    internal ReplicaVerifier? Verifier => _verifier;

    /// <summary>The tree (tests).</summary>
    internal Tree Tree => _tree;

    public NodeId Id => _network.Id;

    /// <summary>host:port where peers reach this node ("" when it does not listen).</summary>
    public string Address => _network.AdvertisedAddress;

    /// <summary>True when this node holds the volume key.</summary>
    public bool IsMember => Volume is not null;

    /// <summary>The volume, for members; null on a storage peer.</summary>
    public Volume? Volume { get; }

    public PeerNetwork Network => _network;

    /// <summary>The nodes chunk placement currently counts on, this one included.</summary>
    public IReadOnlyList<NodeId> Members => _membership.Members;

    public NodeStatus Status()
    {
        (long blobs, long bytes) = _meta.Blobs.BlobTotals();
        (long backlogChunks, long backlogBytes) = _replicator.Backlog;
        return new NodeStatus(Id.ToString(), Address, IsMember, _network.Peers.Count, _membership.Members.Count, blobs, bytes,
            _meta.RecordCount(), IsMember ? _meta.LiveEntryCount() : 0, backlogChunks, backlogBytes,
            _fetcher?.Fetched ?? 0, (_fetcher?.Rejected ?? 0) + (_verifier?.Rejected ?? 0), _tree.RejectedRecords, _verifier?.Pending ?? 0, _cache?.Limit ?? 0,
            IsMember ? 0 : _storageQuota);
    }

    /// <summary>The connected peers as <c>nexnet status</c> shows them, and the addresses still being dialed.</summary>
    public IReadOnlyList<PeerState> PeerStates()
    {
        var states = _network.Peers.Select(p => new PeerState(p.RemoteId.ToString(),
            p.RemoteListenAddress is { Length: > 0 } listen ? listen : p.RemoteEndPoint, "connected", p.RoundTripTime, _sync.CaughtUpWith(p.RemoteId))).ToList();
        foreach (string address in _network.DialingAddresses.Where(a => !states.Any(s => s.Address == a)))
        {
            states.Add(new PeerState(null, address, "dialing", null, null));
        }

        return states;
    }

    /// <summary>The ids of every chunk held here.</summary>
    public IEnumerable<ChunkId> LocalChunks() => _blobs.Enumerate();

    /// <summary>Asks every connected peer for new records now (anti-entropy also runs on its own timer).</summary>
    public Task SyncNowAsync(CancellationToken cancellationToken = default) => _sync.PullAllAsync(cancellationToken);

    /// <summary>On a storage peer, deletes now the chunks members collected whose deferral (the history retention) has passed. Returns how many.</summary>
    public int CollectDeferred() => _deferredCollection?.CollectDue() ?? 0;

    /// <summary>Chunks marked for deferred collection here (tests).</summary>
    internal long DeferredCollections => _meta.DeferredCollectionCount();

    /// <summary>Collects unreferenced chunks now (members only); <paramref name="grace"/> overrides the configured grace.</summary>
    public int CollectGarbage(TimeSpan? grace = null) => _collector?.Collect(grace) ?? 0;

    /// <summary>How long history keeps a replaced version.</summary>
    public TimeSpan HistoryRetention { get; }

    /// <summary>Prunes history now as the periodic pass does (retention, size cap, snapshots). Returns how many versions went.</summary>
    public int PruneHistory() => _history.Prune();

    /// <summary>Evicts cached chunks now, as each collection does, until the store is within <see cref="NodeOptions.CacheLimit"/> (tests). Returns how many.</summary>
    internal int EvictCache() => _cache?.Evict().Count ?? 0;

    /// <summary>Queues every local chunk for a replication check (repair) now.</summary>
    public void Repair() => _replicator.Repair();

    /// <summary>Deletes every chunk held here, keeping the records (as if the blob disk were lost): reads then fetch from peers, and repair restores copies this node owns.</summary>
    internal int FetchesInFlight => _fetcher?.InFlight ?? 0;

    /// <summary>Blobs that fetches received from peers and refused (<see cref="NodeStatus.BadChunksRejected"/> also counts background checks of pushed copies).</summary>
    internal long FetchesRejected => _fetcher?.Rejected ?? 0;

    public void DropLocalChunks()
    {
        foreach (ChunkId id in _blobs.Enumerate().ToList())
        {
            _blobs.Delete(id, _meta.Blobs);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_verifier is not null)
        {
            await _verifier.DisposeAsync(); // first: a replica it rejects starts a fetch, and fetches are drained next
        }

        if (_fetcher is not null)
        {
            await _fetcher.DrainAsync();
        }

        await _sync.DisposeAsync();
        if (_historyCopies is not null)
        {
            await _historyCopies.DisposeAsync(); // before the replicator it asks for proofs
        }

        await _replicator.DisposeAsync();
        await _history.DisposeAsync();
        if (_deferredCollection is not null)
        {
            await _deferredCollection.DisposeAsync();
        }

        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }

        _membership.Dispose();
        await _network.DisposeAsync();
        _tree.Dispose();
        _meta.Dispose();
        _cipher?.Dispose();
        _sealer?.Dispose();
        _signer?.Dispose();
        _publicKey?.Dispose();
        _keys?.Dispose();
        _identity.Dispose();
        _stopping.Dispose();
    }
}
