namespace NexNet.Node;

/// <summary>Why a volume operation failed; front ends map it once (FUSE to errno, the CLI to an exit code).</summary>
public enum VolumeError
{
    NotFound,
    AlreadyExists,
    NotADirectory,
    IsADirectory,
    NotEmpty,
    InvalidPath,

    /// <summary>A chunk the file needs is neither here nor at any reachable peer (or every copy was bad).</summary>
    Unavailable,

    /// <summary>This node has only the network secret: it stores for others and cannot read the volume.</summary>
    NotAMember,

    /// <summary>The entry's record would be larger than a record may be (960 KiB sealed): a file of too many chunks.</summary>
    TooLarge,
}

/// <summary>A volume operation failed for a reason the caller can act on (<see cref="Error"/>).</summary>
public sealed class VolumeException : Exception
{
    public VolumeException(VolumeError error, string message) : base(message) => Error = error;

    public VolumeException(VolumeError error, string message, Exception innerException) : base(message, innerException) => Error = error;

    public VolumeException() : this(VolumeError.NotFound, "volume operation failed") { }

    public VolumeException(string message) : this(VolumeError.NotFound, message) { }

    public VolumeException(string message, Exception innerException) : this(VolumeError.NotFound, message, innerException) { }

    public VolumeError Error { get; }
}
