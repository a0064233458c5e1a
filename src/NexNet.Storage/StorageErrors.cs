using NexNet.Crypto;

namespace NexNet.Storage;

/// <summary>A blob the caller expected is not in the local store. The node answers it by fetching from a peer.</summary>
public sealed class BlobNotFoundException : Exception
{
    public BlobNotFoundException(ChunkId id) : base($"blob {id} is not in the local store") => Id = id;

    public BlobNotFoundException() : base("blob not found") { }

    public BlobNotFoundException(string message) : base(message) { }

    public BlobNotFoundException(string message, Exception innerException) : base(message, innerException) { }

    public ChunkId Id { get; }
}

/// <summary>The metadata database cannot be used: written by a newer version, or damaged.</summary>
public sealed class MetaDatabaseException : Exception
{
    public MetaDatabaseException(string message) : base(message) { }

    public MetaDatabaseException() : this("metadata store error") { }

    public MetaDatabaseException(string message, Exception innerException) : base(message, innerException) { }
}
