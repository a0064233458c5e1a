namespace NexNet.P2P;

/// <summary>A peer broke the protocol: a malformed or oversized frame, a message out of place. The connection is closed.</summary>
public sealed class PeerProtocolException : Exception
{
    public PeerProtocolException(string message) : base(message) { }

    public PeerProtocolException() : this("peer protocol error") { }

    public PeerProtocolException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Why a handshake failed, so the caller and the log can tell a wrong secret from a version mismatch from a timeout.</summary>
public enum HandshakeFailure
{
    Transport,
    Timeout,
    Protocol,
    Version,
    Authentication,
    Self,
    Refused,
}

/// <summary>The handshake with a peer did not complete; <see cref="Failure"/> says why.</summary>
public sealed class HandshakeException : Exception
{
    public HandshakeException(HandshakeFailure failure, string message, Exception? innerException = null)
        : base(message, innerException) => Failure = failure;

    public HandshakeException() : this(HandshakeFailure.Protocol, "handshake failed") { }

    public HandshakeException(string message) : this(HandshakeFailure.Protocol, message) { }

    public HandshakeException(string message, Exception innerException) : this(HandshakeFailure.Protocol, message, innerException) { }

    public HandshakeFailure Failure { get; }
}
