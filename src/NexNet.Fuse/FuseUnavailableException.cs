namespace NexNet.Fuse;

/// <summary>FUSE cannot be used here: the library is missing or of an unsupported version, /dev/fuse is absent, or the mountpoint is unusable. The message says what to do.</summary>
public sealed class FuseUnavailableException : Exception
{
    public FuseUnavailableException(string message) : base(message) { }

    public FuseUnavailableException() : this("FUSE is not available") { }

    public FuseUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
