namespace NexNet.Node;

/// <summary>A snapshot of what a node holds and is doing, for <c>nexnet status</c> and tests.</summary>
public sealed record NodeStatus(
    string Id,
    string Address,
    bool IsMember,
    int ConnectedPeers,
    int Members,
    long Blobs,
    long BlobBytes,
    long Records,
    long Entries,
    long ReplicationBacklogChunks,
    long ReplicationBacklogBytes,
    long ChunksFetched,
    long BadChunksRejected,
    long RecordsRejected,
    long ReplicasUnchecked,
    long CacheLimit,
    long StorageQuota);
