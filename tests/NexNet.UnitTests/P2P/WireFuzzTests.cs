using System.Diagnostics;
using Google.Protobuf;
using NexNet.P2P;
using NexNet.P2P.Wire;

namespace NexNet.UnitTests.P2P;

/// <summary>
/// Runs the wire fuzz target on a fixed number of inputs in every CI run (a count, not a time, so a slow
/// machine runs as many as a fast one): random bytes, well-formed frame streams, and those mutated (bit
/// flips, truncations, spliced lengths), each fed in random segments. Only <see cref="PeerProtocolException"/>
/// may come out. FUZZ_CASES changes the count; failures print the seed and the input.
/// </summary>
public class WireFuzzTests
{
    /// <summary>1,000,000 by default: about 4 s here, as docs/network.md says.</summary>
    private static readonly long s_cases =
        long.TryParse(Environment.GetEnvironmentVariable("FUZZ_CASES"), System.Globalization.CultureInfo.InvariantCulture, out long n) && n > 0 ? n : 1_000_000;

    [Fact]
    public void The_decoder_only_ever_rejects_bad_input_with_a_protocol_error()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        byte[][] corpus = Corpus();
        var clock = Stopwatch.StartNew();
        long cases = 0, decodedFrames = 0, rejected = 0;
        while (cases < s_cases)
        {
            byte[] input = random.Next(4) switch
            {
                0 => RandomBytes(random),
                _ => Mutate(random, corpus[random.Next(corpus.Length)], corpus),
            };
            int[] segments = [.. Enumerable.Range(0, random.Next(1, 8)).Select(_ => random.Next(1, Math.Max(2, input.Length)))];
            try
            {
                decodedFrames += WireFuzzTarget.Run(input, segments);
            }
            catch (PeerProtocolException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed}, case {cases}: {e.GetType().Name}: {e.Message}\ninput: {Convert.ToHexString(input)}\nsegments: {string.Join(',', segments)}");
            }

            cases++;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{cases} cases in {clock.Elapsed.TotalSeconds:F1} s: {decodedFrames} frames decoded, {rejected} inputs rejected (seed {seed})");
        Assert.True(decodedFrames > 0 && rejected > 0, $"the inputs missed a side of the decoder: {decodedFrames} frames decoded, {rejected} inputs rejected");
    }

    private static byte[][] Corpus()
    {
        byte[] Msg(uint type, IMessage m) => FrameCodecTests.Message(type, m);
        byte[] id = new byte[32];
        return
        [
            Msg(MessageType.Hello, new Hello { ProtocolVersion = 1, NodeId = ByteString.CopyFrom(id), Nonce = ByteString.CopyFrom(id) }),
            Msg(MessageType.Proof, new Proof { Mac = ByteString.CopyFrom(id) }),
            Msg(MessageType.Refuse, new Refuse { Reason = Refuse.Types.Reason.Authentication, Detail = "no" }),
            Msg(MessageType.Welcome, new Welcome { ListenAddress = "127.0.0.1:4000" }),
            Msg(MessageType.Peers, new PeerList { Peers = { new PeerAddress { NodeId = ByteString.CopyFrom(id), Address = "127.0.0.1:5000" } } }),
            Msg(MessageType.Bye, new Bye { Reason = "bye" }),
            FrameCodecTests.Frame(FrameType.Message, 0, new Envelope { RequestId = 7, Type = 100, Body = ByteString.CopyFrom(1, 2, 3), StreamId = 3 }.ToByteArray()),
            FrameCodecTests.Frame(FrameType.Data, 3, new byte[300]),
            FrameCodecTests.Frame(FrameType.End, 3, []),
            FrameCodecTests.Frame(FrameType.Reset, 3, "gone"u8.ToArray()),
            FrameCodecTests.Frame(FrameType.Credit, 3, [0, 1, 0, 0]),
        ];
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 512)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] seed, byte[][] corpus)
    {
        var bytes = new List<byte>(seed);
        for (int i = random.Next(1, 4); i > 0; i--)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0: // flip a bit
                    int at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0: // truncate
                    bytes.RemoveRange(random.Next(bytes.Count), bytes.Count - random.Next(bytes.Count) > 0 ? 1 : 0);
                    bytes = bytes.Take(random.Next(bytes.Count + 1)).ToList();
                    break;
                case 2: // append another frame
                    bytes.AddRange(corpus[random.Next(corpus.Length)]);
                    break;
                case 3 when bytes.Count >= 4: // splice a hostile length
                    uint length = (uint)random.Next(6) switch { 0 => 0, 1 => 4, 2 => uint.MaxValue, 3 => (uint)FrameCodec.MaxPayload + 5, _ => (uint)random.Next() };
                    bytes[0] = (byte)(length >> 24);
                    bytes[1] = (byte)(length >> 16);
                    bytes[2] = (byte)(length >> 8);
                    bytes[3] = (byte)length;
                    break;
                case 4 when bytes.Count > 9: // random byte inside the payload (protobuf tags and varints)
                    bytes[9 + random.Next(bytes.Count - 9)] = (byte)random.Next(256);
                    break;
                default: // change the frame type
                    if (bytes.Count > 4)
                    {
                        bytes[4] = (byte)random.Next(8);
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}
