using System.Buffers;
using Google.Protobuf;

namespace NexNet.P2P.Wire;

/// <summary>
/// The fuzz target for everything that parses bytes from a peer: frames, envelopes and the network's
/// own message bodies, decoded as a connection would. Malformed input may only ever raise
/// <see cref="PeerProtocolException"/>; anything else escaping is a bug. The input is fed in the given
/// segments, so frames split across reads are exercised too. Used by the CI fuzz test and usable from
/// an external fuzzer (SharpFuzz, libFuzzer) through <see cref="Run(ReadOnlySpan{byte})"/>.
/// </summary>
public static class WireFuzzTarget
{
    public static int Run(ReadOnlySpan<byte> input) => Run(input, [input.Length]);

    /// <summary>Decodes <paramref name="input"/> split into segments of the given lengths; returns the number of frames decoded.</summary>
    public static int Run(ReadOnlySpan<byte> input, IReadOnlyList<int> segmentLengths)
    {
        ArgumentNullException.ThrowIfNull(segmentLengths);
        ReadOnlySequence<byte> all = Segments.Build(input, segmentLengths);
        int frames = 0;
        try
        {
            while (FrameCodec.TryRead(ref all, out Frame frame, out bool unknown))
            {
                frames++;
                if (!unknown && frame.Type == FrameType.Message)
                {
                    DecodeBody(PeerConnection.ParseEnvelope(frame.Payload));
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new PeerProtocolException($"undecodable body: {e.Message}", e);
        }

        return frames;
    }

    private static void DecodeBody(Envelope envelope)
    {
        switch (envelope.Type)
        {
            case MessageType.Hello: Hello.Parser.ParseFrom(envelope.Body); break;
            case MessageType.Proof: Proof.Parser.ParseFrom(envelope.Body); break;
            case MessageType.Refuse: Refuse.Parser.ParseFrom(envelope.Body); break;
            case MessageType.Welcome: Welcome.Parser.ParseFrom(envelope.Body); break;
            case MessageType.Peers:
                foreach (PeerAddress peer in PeerList.Parser.ParseFrom(envelope.Body).Peers)
                {
                    _ = NodeId.TryFromBytes(peer.NodeId.Span, out _);
                }

                break;
            case MessageType.Bye: Bye.Parser.ParseFrom(envelope.Body); break;
        }
    }

    /// <summary>A read-only sequence over copies of consecutive slices of the input.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Build(ReadOnlySpan<byte> input, IReadOnlyList<int> lengths)
        {
            if (input.IsEmpty)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            Segments? first = null, last = null;
            int offset = 0;
            for (int i = 0; offset < input.Length; i++)
            {
                int length = Math.Clamp(i < lengths.Count ? lengths[i] : input.Length, 1, input.Length - offset);
                var segment = new Segments(input.Slice(offset, length).ToArray(), offset);
                if (last is null)
                {
                    first = segment;
                }
                else
                {
                    last.Next = segment;
                }

                last = segment;
                offset += length;
            }

            return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
        }
    }
}
