using System.Net;

namespace NexNet.Node;

/// <summary>How a node runs. Defaults suit a real network; tests shorten the timers.</summary>
public sealed class NodeOptions
{
    /// <summary>Where to accept peers (null: do not listen).</summary>
    public IPEndPoint? Listen { get; set; } = new(IPAddress.Any, 0);

    /// <summary>Addresses (host:port) to dial at start.</summary>
    public IReadOnlyList<string> Bootstrap { get; set; } = [];

    /// <summary>Copies of every chunk (capped at the number of nodes).</summary>
    public int ReplicationFactor { get; set; } = 3;

    /// <summary>Fixed per volume when it is created.</summary>
    public int ChunkSize { get; set; } = ChunkStore.DefaultChunkSize;

    /// <summary>A peer unreachable for longer than this is counted out and its chunks re-replicated.</summary>
    public TimeSpan DeadAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often anti-entropy asks every peer for new records.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a chunk whose owners could not all be reached waits before it is tried again.</summary>
    public TimeSpan ReplicationRetry { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an unreferenced chunk is kept before collection.</summary>
    public TimeSpan CollectionGrace { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan CollectionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a version stays in history after a newer one (or a deletion) replaced it; its chunks stay
    /// with it. Every node prunes by the replacing version's clock, so all agree on what history holds.
    /// Zero keeps no history at all.
    /// </summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Bytes of the data directory's disk the chunk store leaves free, so commits, the commit journal,
    /// SQLite's WAL and records from peers always have room (0: a tenth of the disk, at least 8 MiB and at
    /// most 256 MiB, and never more than a quarter of the disk). Below twice this, the node is under space pressure: it gives up cached copies, then
    /// the oldest history, until it is not.
    /// </summary>
    public long SpaceReserve { get; set; }

    /// <summary>The most bytes of chunks only history keeps (0: no limit); past it the oldest versions go first, never a snapshot's.</summary>
    public long HistoryMaxBytes { get; set; }

    /// <summary>
    /// The most bytes the local store should hold (0: no limit). Past it, chunks held only as copies (fetched
    /// on a miss, or written here for other owners) are evicted, least recently used first, at each
    /// collection; chunks this node owns or has not yet replicated always stay.
    /// </summary>
    public long CacheLimit { get; set; }

    /// <summary>
    /// On a storage peer, the most bytes of chunks it stores for others (0: no limit). Past it, pushes are
    /// refused with an error the pusher logs, so no peer holding the network key can fill its disk; what
    /// it holds stays, and members place the copies elsewhere.
    /// </summary>
    public long StorageQuota { get; set; }

    /// <summary>The longest one fetch from one peer may take before the next peer is asked.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long pushes must pause before replicas pushed here are checked in the background (they are always checked before their first read here).</summary>
    public TimeSpan ReplicaCheckDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How far ahead of this node's wall clock a record's clock (or a collect notice's time) may be; a record
    /// further ahead is refused with one log line, so nobody can stamp a path into the far future.
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = HybridClock.DefaultMaxSkew;

    /// <summary>Chunks fetched ahead of a reader that missed.</summary>
    public int ReadAhead { get; set; } = 4;

    public PeerOptions Peer { get; set; } = new();
}
