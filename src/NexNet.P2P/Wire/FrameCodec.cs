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
        int available = (int)Math.Min(buffer.Length, HeaderSize);
        buffer.Slice(0, available).CopyTo(header);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length < MinLength || length > MinLength + maxPayload)
        {
            throw new PeerProtocolException($"frame length {length} is outside 5..{MinLength + maxPayload}");
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        var type = (FrameType)header[4];
        uint channel = BinaryPrimitives.ReadUInt32BigEndian(header[5..]);
        ReadOnlySequence<byte> payload = buffer.Slice(HeaderSize, length - MinLength);
        buffer = buffer.Slice(4 + length);

        switch (type)
        {
            case FrameType.Message when channel != 0:
                throw new PeerProtocolException($"message frame on channel {channel} (must be 0)");
            case FrameType.Data when channel == 0 || payload.IsEmpty:
                throw new PeerProtocolException("data frame without a stream or without bytes");
            case FrameType.End when channel == 0 || !payload.IsEmpty:
                throw new PeerProtocolException("end frame without a stream or with a payload");
            case FrameType.Reset when channel == 0 || payload.Length > MaxResetReason:
                throw new PeerProtocolException("reset frame without a stream or with an oversized reason");
            case FrameType.Credit when channel == 0 || payload.Length != 4:
                throw new PeerProtocolException("credit frame without a stream or not 4 bytes");
            case FrameType.Message or FrameType.Data or FrameType.End or FrameType.Reset or FrameType.Credit:
                frame = new Frame(type, channel, payload);
                return true;
            default:
                skippedUnknown = true;
                return true;
        }
    }
}
