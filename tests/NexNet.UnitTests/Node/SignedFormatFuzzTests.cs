using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.Crypto;
using NexNet.Node.Protocol;
using NexNet.Node.Replication;
using NexNet.Node.Sync;

namespace NexNet.UnitTests.Node;

/// <summary>
/// Fuzzes what a storage peer checks before it acts: collect notices and signed records, random and
/// mutated from valid ones (bit flips, truncations, splices). Nothing may throw, and nothing but an
/// unchanged valid input may pass. FUZZ_SECONDS lengthens a run; a failure prints the input.
/// </summary>
public sealed class SignedFormatFuzzTests : IDisposable
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 3);

    private readonly VolumeSigner _signer;
    private readonly VolumeVerifier _verifier;

    public SignedFormatFuzzTests()
    {
        using VolumeKeys keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        _signer = VolumeSigner.Create(keys);
        _verifier = new VolumeVerifier(_signer.PublicKey);
    }

    [Fact]
    public void A_collect_notice_passes_only_unchanged()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        ChunkId[] ids = [.. Enumerable.Range(0, 3).Select(_ => ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32)))];
        var (cases, accepted) = Fuzz(
            valid: () => SignedNotices.MakeCollect(_signer, ids, now),
            check: (receiver, input) => ((SignedNotices)receiver).AcceptCollect(input, out _) is not null,
            newReceiver: () => new SignedNotices(_verifier, TimeSpan.FromMinutes(10), () => now));
        Assert.True(cases > 1000, $"only {cases} cases");
        Assert.True(accepted > 0, "no valid notice was accepted");
    }

    [Fact]
    public void A_signed_record_verifies_only_unchanged()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32), origin = RandomNumberGenerator.GetBytes(32), body = RandomNumberGenerator.GetBytes(400);
        long clock = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16;
        byte[] clockBytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(clockBytes, clock);
        var record = new SealedRecord
        {
            Key = ByteString.CopyFrom(key),
            Clock = (ulong)clock,
            Origin = ByteString.CopyFrom(origin),
            Body = ByteString.CopyFrom(body),
            Signature = ByteString.CopyFrom(_signer.Sign(SignatureDomain.Record, key, clockBytes, origin, body)),
        };
        var (cases, accepted) = Fuzz(
            valid: record.ToByteArray,
            check: (_, input) =>
            {
                SealedRecord parsed;
                try
                {
                    parsed = SealedRecord.Parser.ParseFrom(input);
                }
                catch (InvalidProtocolBufferException)
                {
                    return false;
                }

                return parsed.Clock <= long.MaxValue && Tree.IsSignedByVolume(_verifier, parsed.Key.Memory, (long)parsed.Clock, parsed.Origin.Memory, parsed.Body.Memory, parsed.Signature.Span);
            },
            newReceiver: () => new object());
        Assert.True(cases > 1000, $"only {cases} cases");
        Assert.True(accepted > 0, "the valid record did not verify");
    }

    /// <summary>Runs random and mutated inputs through <paramref name="check"/>; an accepted input must equal the valid one, and nothing may throw.</summary>
    private static (long Cases, long Accepted) Fuzz(Func<byte[]> valid, Func<object, byte[], bool> check, Func<object> newReceiver)
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        long cases = 0, accepted = 0;
        while (clock.Elapsed < s_budget)
        {
            byte[] original = valid();
            byte[] input = random.Next(8) switch
            {
                0 => original,
                1 => RandomBytes(random),
                _ => Mutate(random, original),
            };
            try
            {
                if (check(newReceiver(), input))
                {
                    accepted++;
                    Assert.True(input.AsSpan().SequenceEqual(original) || Same(input, original),
                        $"seed {seed}, case {cases}: a changed input passed\ninput: {Convert.ToHexString(input)}\nvalid: {Convert.ToHexString(original)}");
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed}, case {cases}: {e.GetType().Name}: {e.Message}\ninput: {Convert.ToHexString(input)}");
            }

            cases++;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{cases} cases in {clock.Elapsed.TotalSeconds:F1} s, {accepted} accepted (seed {seed})");
        return (cases, accepted);
    }

    /// <summary>
    /// Protobuf allows more than one encoding of one message (a field repeated with the last winning, fields
    /// it does not know): equal when every field the receiver acts on is the same, which is all the
    /// signature covers and all a storage peer uses.
    /// </summary>
    private static bool Same(byte[] a, byte[] b)
    {
        try
        {
            SealedRecord x = SealedRecord.Parser.ParseFrom(a), y = SealedRecord.Parser.ParseFrom(b);
            if (x.Key == y.Key && x.Clock == y.Clock && x.Origin == y.Origin && x.Body == y.Body && x.Signature == y.Signature)
            {
                return true;
            }
        }
        catch (InvalidProtocolBufferException)
        {
        }

        try
        {
            CollectNotice x = CollectNotice.Parser.ParseFrom(a), y = CollectNotice.Parser.ParseFrom(b);
            return x.Ids == y.Ids && x.TimeMs == y.TimeMs && x.Nonce == y.Nonce && x.Signature == y.Signature;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 300)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        byte[] bytes = (byte[])original.Clone();
        switch (random.Next(4))
        {
            case 0: // flip one to eight bits
                for (int i = random.Next(1, 9); i > 0; i--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1: // cut short
                return bytes[..random.Next(bytes.Length)];
            case 2: // a run of random bytes spliced in
                int at = random.Next(bytes.Length);
                byte[] run = new byte[random.Next(1, 40)];
                random.NextBytes(run);
                return [.. bytes[..at], .. run, .. bytes[at..]];
            default: // one byte changed
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
        }
    }

    public void Dispose()
    {
        _signer.Dispose();
        _verifier.Dispose();
    }
}
