namespace NexNet.P2P.Wire;

/// <summary>
/// Reads frames straight off the TLS stream: the 9-byte header first, then the payload wherever its
/// consumer wants it (a stream reader's own buffer, a pooled buffer for a message), so stream data is
/// decrypted directly into the application's buffer with no intermediate copy. Nothing is read ahead
/// of the current frame, so the handshake and the connection can share one reader.
/// </summary>
internal sealed class FrameReader(Stream transport)
{
    private readonly byte[] _header = new byte[FrameCodec.HeaderSize];
    private byte[]? _scratch;

    public Stream Transport { get; } = transport;

    /// <summary>The next header, or null if the peer closed the connection cleanly between frames.</summary>
    public async ValueTask<FrameHeader?> ReadHeaderAsync(int maxPayload, CancellationToken cancellationToken)
    {
        // One read for the whole header in the common case; a bad length is refused as soon as its 4 bytes
        // are in, before waiting for anything more.
        int read = await Transport.ReadAsync(_header, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        while (read < 4)
        {
            int n = await Transport.ReadAsync(_header.AsMemory(read, 4 - read), cancellationToken);
            read += n > 0 ? n : throw new IOException("closed by peer in the middle of a frame");
        }

        FrameCodec.PayloadLength(_header, maxPayload);
        if (read < FrameCodec.HeaderSize)
        {
            await ReadExactlyAsync(_header.AsMemory(read), cancellationToken);
        }

        return FrameCodec.ParseHeader(_header, maxPayload);
    }

    public async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        try
        {
            await Transport.ReadExactlyAsync(destination, cancellationToken);
        }
        catch (EndOfStreamException e)
        {
            throw new IOException("closed by peer in the middle of a frame", e);
        }
    }

    /// <summary>Reads and discards a payload (of an unknown type, or for a stream already gone).</summary>
    public async ValueTask SkipAsync(int length, CancellationToken cancellationToken)
    {
        _scratch ??= new byte[64 * 1024];
        while (length > 0)
        {
            int n = Math.Min(length, _scratch.Length);
            await ReadExactlyAsync(_scratch.AsMemory(0, n), cancellationToken);
            length -= n;
        }
    }
}
