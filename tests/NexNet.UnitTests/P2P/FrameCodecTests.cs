using System.Buffers;
using Google.Protobuf;
using NexNet.P2P;
using NexNet.P2P.Wire;

namespace NexNet.UnitTests.P2P;

public class FrameCodecTests
{
    internal static byte[] Frame(FrameType type, uint channel, byte[] payload)
    {
        byte[] frame = new byte[FrameCodec.HeaderSize + payload.Length];
        FrameCodec.WriteHeader(frame, type, channel, payload.Length);
        payload.CopyTo(frame, FrameCodec.HeaderSize);
        return frame;
    }

    internal static byte[] Message(uint type, IMessage body) =>
        Frame(FrameType.Message, 0, new Envelope { Type = type, Body = body.ToByteString() }.ToByteArray());

    [Fact]
    public void Frames_round_trip_even_when_split_across_every_byte()
    {
        byte[] stream = [.. Message(MessageType.Bye, new Bye { Reason = "done" }), .. Frame(FrameType.Data, 3, [1, 2, 3]), .. Frame(FrameType.End, 3, [])];
        for (int cut = 1; cut < stream.Length; cut++)
        {
            Assert.Equal(3, WireFuzzTarget.Run(stream, [cut, stream.Length]));
        }

        Assert.Equal(3, WireFuzzTarget.Run(stream, Enumerable.Repeat(1, stream.Length).ToArray()));
    }

    [Fact]
    public void A_4_GiB_length_prefix_is_refused_before_anything_is_allocated()
    {
        var buffer = new ReadOnlySequence<byte>([0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        PeerProtocolException e = Assert.Throws<PeerProtocolException>(() => FrameCodec.TryRead(ref buffer, out _, out _));
        Assert.Contains("4294967295", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024, "the codec allocated for a length it should have refused");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData((uint)(FrameCodec.MaxPayload + 6))]
    public void Lengths_outside_the_bounds_are_refused(uint length)
    {
        byte[] header = new byte[FrameCodec.HeaderSize];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, length);
        header[4] = 1;
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Throws<PeerProtocolException>(() => FrameCodec.TryRead(ref buffer, out _, out _));
    }

    [Fact]
    public void Handshake_frames_have_a_tighter_bound()
    {
        byte[] frame = Frame(FrameType.Message, 0, new byte[FrameCodec.MaxHandshakePayload + 1]);
        var buffer = new ReadOnlySequence<byte>(frame.AsMemory(0, FrameCodec.HeaderSize));
        Assert.Throws<PeerProtocolException>(() => FrameCodec.TryRead(ref buffer, out _, out _, FrameCodec.MaxHandshakePayload));
    }

    [Fact]
    public void An_incomplete_frame_waits_for_more_bytes()
    {
        byte[] frame = Frame(FrameType.Data, 5, new byte[100]);
        var buffer = new ReadOnlySequence<byte>(frame.AsMemory(0, frame.Length - 1));
        Assert.False(FrameCodec.TryRead(ref buffer, out _, out _));
        Assert.Equal(frame.Length - 1, buffer.Length);
    }

    [Fact]
    public void Unknown_frame_types_are_skipped_whole_and_reported()
    {
        byte[] unknown = Frame((FrameType)77, 9, [1, 2, 3, 4]);
        byte[] data = Frame(FrameType.Data, 5, [7]);
        var buffer = new ReadOnlySequence<byte>([.. unknown, .. data]);
        Assert.True(FrameCodec.TryRead(ref buffer, out _, out bool skipped));
        Assert.True(skipped);
        Assert.True(FrameCodec.TryRead(ref buffer, out Frame frame, out skipped));
        Assert.False(skipped);
        Assert.Equal(FrameType.Data, frame.Type);
        Assert.Equal([7], frame.Payload.ToArray());
    }

    [Theory]
    [InlineData((byte)FrameType.Message, 1u, new byte[] { })] // message off channel 0
    [InlineData((byte)FrameType.Data, 0u, new byte[] { 1 })] // data without a stream
    [InlineData((byte)FrameType.Data, 3u, new byte[] { })] // empty data
    [InlineData((byte)FrameType.End, 3u, new byte[] { 1 })] // end with a payload
    [InlineData((byte)FrameType.Credit, 3u, new byte[] { 1, 2 })] // credit not 4 bytes
    public void Frames_that_break_their_type_rules_are_refused(byte type, uint channel, byte[] payload)
    {
        var buffer = new ReadOnlySequence<byte>(Frame((FrameType)type, channel, payload));
        Assert.Throws<PeerProtocolException>(() => FrameCodec.TryRead(ref buffer, out _, out _));
    }

    [Fact]
    public void An_undecodable_envelope_is_a_protocol_error() =>
        Assert.Throws<PeerProtocolException>(() => WireFuzzTarget.Run(Frame(FrameType.Message, 0, [0xFF, 0xFF, 0xFF])));
}
