using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>What the metadata index knows of one stored blob: size, how many live records use it, whether it is pinned, when it was last read.</summary>
public sealed record BlobInfo(ChunkId Id, long Size, long RefCount, bool Pinned, DateTimeOffset LastAccess);
