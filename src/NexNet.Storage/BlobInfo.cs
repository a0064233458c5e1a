using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>What the blob index knows of one stored blob: size, whether it is pinned, when it was last read.</summary>
public sealed record BlobInfo(ChunkId Id, long Size, bool Pinned, DateTimeOffset LastAccess);
