using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>Receives each chunk the writer has just sealed and staged, while the writer still holds its buffer.</summary>
public delegate ValueTask SealedChunkSink(ChunkId id, ReadOnlyMemory<byte> sealedBlob, CancellationToken cancellationToken);
