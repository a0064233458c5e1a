namespace NexNet.P2P;

/// <summary>A request that arrived from a peer. <see cref="BodyStream"/> is set when the sender streams a body.</summary>
public sealed record PeerRequest(PeerConnection From, uint Type, ReadOnlyMemory<byte> Body, PeerStream? BodyStream);

/// <summary>
/// What a handler answers: a small body, and optionally a streamed body written by <see cref="WriteBody"/>
/// (the stream is ended when it returns).
/// </summary>
public sealed record PeerReply(ReadOnlyMemory<byte> Body, Func<Stream, CancellationToken, Task>? WriteBody = null)
{
    public static PeerReply Empty { get; } = new(ReadOnlyMemory<byte>.Empty);
}

/// <summary>The answer to a request. Dispose it to release <see cref="BodyStream"/> when one came.</summary>
public sealed record PeerResponse(ReadOnlyMemory<byte> Body, PeerStream? BodyStream) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        if (BodyStream is not null)
        {
            await BodyStream.DisposeAsync();
        }
    }
}

/// <summary>Handles one request type for every connection of a network.</summary>
public delegate Task<PeerReply> PeerRequestHandler(PeerRequest request, CancellationToken cancellationToken);

/// <summary>The peer answered a request with an error (its handler failed, or it does not know the type).</summary>
public sealed class PeerRequestException : Exception
{
    public PeerRequestException(string message) : base(message) { }

    public PeerRequestException() : this("the peer failed the request") { }

    public PeerRequestException(string message, Exception innerException) : base(message, innerException) { }
}
