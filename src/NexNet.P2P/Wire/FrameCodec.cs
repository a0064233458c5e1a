using System.Buffers;
using System.Buffers.Binary;

namespace NexNet.P2P.Wire;

/// <summary>
/// The frame layout: <c>length (u32 BE, counts what follows) | type (u8) | channel (u32 BE) | payload</c>.
/// Every length is checked against <see cref="MaxPayload"/> before anything is allocated or waited
/// for, so a 4 GiB length prefix costs nothing but the connection. Frame types this build does not know
/// are skipped whole (their length says how far) and counted, so newer peers can add them.
/// </summary>
internal static class FrameCodec
{
    public const int HeaderSize = 9;
    /// <summary>Largest payload of an authenticated connection's frame (stream data comes in frames this size).</summary>
    public const int MaxPayload = 1024 * 1024;

    /// <summary>Largest payload before the handshake has succeeded: handshake messages are a few hundred bytes.</summary>
    public const int MaxHandshakePayload = 4 * 1024;
    public const int MaxResetReason = 1024;
    private const int MinLength = 5;

    public static void WriteHeader(Span<byte> destination, FrameType type, uint channel, int payloadLength)
    {
        if ((uint)payloadLength > MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), $"a frame payload is at most {MaxPayload} bytes");
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(MinLength + payloadLength));
        destination[4] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], channel);
    }

    /// <summary>
    /// Checks a complete 9-byte header against the bounds and the rules of its type, and returns it.
    /// The one place frame headers are validated: both readers use it.
    /// </summary>
    public static FrameHeader ParseHeader(ReadOnlySpan<byte> header, int maxPayload)
    {
        int payloadLength = PayloadLength(header, maxPayload);
        var type = (FrameType)header[4];
        uint channel = BinaryPrimitives.ReadUInt32BigEndian(header[5..]);
        switch (type)
        {
            case FrameType.Message when channel != 0:
                throw new PeerProtocolException($"message frame on channel {channel} (must be 0)");
            case FrameType.Data when channel == 0 || payloadLength == 0:
                throw new PeerProtocolException("data frame without a stream or without bytes");
            case FrameType.End when channel == 0 || payloadLength != 0:
                throw new PeerProtocolException("end frame without a stream or with a payload");
            case FrameType.Reset when channel == 0 || payloadLength > MaxResetReason:
                throw new PeerProtocolException("reset frame without a stream or with an oversized reason");
            case FrameType.Credit when channel == 0 || payloadLength != 4:
                throw new PeerProtocolException("credit frame without a stream or not 4 bytes");
            case FrameType.Message or FrameType.Data or FrameType.End or FrameType.Reset or FrameType.Credit:
                return new FrameHeader(type, channel, payloadLength, Unknown: false);
            default:
                return new FrameHeader(type, channel, payloadLength, Unknown: true);
        }
    }

    /// <summary>The payload length from a header's first 4 bytes, refused before anything is allocated if out of bounds.</summary>
    public static int PayloadLength(ReadOnlySpan<byte> lengthField, int maxPayload)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(lengthField);
        if (length < MinLength || length > MinLength + maxPayload)
        {
            throw new PeerProtocolException($"frame length {length} is outside 5..{MinLength + maxPayload}");
        }

        return (int)length - MinLength;
    }

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/>. Returns false when more bytes
    /// are needed; throws <see cref="PeerProtocolException"/> when the bytes cannot be a valid frame.
    /// Unknown frame types are consumed and reported through <paramref name="skippedUnknown"/>.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out Frame frame, out bool skippedUnknown) =>
        TryRead(ref buffer, out frame, out skippedUnknown, MaxPayload);

    /// <summary>As <see cref="TryRead(ref ReadOnlySequence{byte}, out Frame, out bool)"/>, with a tighter bound on the payload.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out Frame frame, out bool skippedUnknown, int maxPayload)
    {
        frame = default;
        skippedUnknown = false;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, Math.Min(buffer.Length, HeaderSize)).CopyTo(header);
        int payloadLength = PayloadLength(header, maxPayload); // the bound holds before the rest arrives
        if (buffer.Length < HeaderSize + payloadLength)
        {
            return false;
        }

        FrameHeader parsed = ParseHeader(header, maxPayload);
        ReadOnlySequence<byte> payload = buffer.Slice(HeaderSize, payloadLength);
        buffer = buffer.Slice(HeaderSize + payloadLength);
        skippedUnknown = parsed.Unknown;
        if (!parsed.Unknown)
        {
            frame = new Frame(parsed.Type, parsed.Channel, payload);
        }

        return true;
    }
}
