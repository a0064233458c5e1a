using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NexNet.Crypto;

namespace NexNet.UnitTests.Crypto;

/// <summary>
/// Round trips and random access around every boundary the implementation has: the 16-byte block, the
/// 64 KiB keystream buffer, and counter carries across bytes, 64-bit halves and the 128-bit wrap.
/// Reference: a block-at-a-time CTR written directly on AES-ECB, independent of the code under test.
/// Each test runs on both implementations: OpenSSL's CTR and the portable ECB-and-XOR path.
/// </summary>
public class AesCtrPropertyTests
{
    public static TheoryData<bool> Implementations() => [true, false];

    private const int KeystreamBuffer = 64 * 1024;
    private static readonly byte[] s_key = RandomNumberGenerator.GetBytes(32);

    private static byte[] ReferenceCtr(byte[] key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input)
    {
        using var aes = Aes.Create();
        aes.Key = key;
        UInt128 counter = BinaryPrimitives.ReadUInt128BigEndian(iv);
        byte[] output = new byte[input.Length];
        Span<byte> block = stackalloc byte[16];
        Span<byte> stream = stackalloc byte[16];
        for (int i = 0; i < input.Length; i += 16)
        {
            BinaryPrimitives.WriteUInt128BigEndian(block, counter++);
            aes.EncryptEcb(block, stream, PaddingMode.None);
            for (int j = i; j < Math.Min(i + 16, input.Length); j++)
            {
                output[j] = (byte)(input[j] ^ stream[j - i]);
            }
        }

        return output;
    }

    public static TheoryData<string> CarryIvs() =>
    [
        "000000000000000000000000000000f0", // carry within the lowest byte's neighbourhood
        "0000000000000000fffffffffffffff0", // carry from the low 64 bits into the high 64 bits
        "fffffffffffffffffffffffffffffff0", // wrap of the whole 128-bit counter
        "00000000000000000000000000000000",
    ];

    [Theory]
    [MemberData(nameof(CarryIvs))]
    public void Counter_carries_and_wraps_like_the_reference(string ivHex)
    {
        byte[] iv = Convert.FromHexString(ivHex);
        byte[] plaintext = RandomNumberGenerator.GetBytes((3 * KeystreamBuffer) + 77);
        foreach (bool useOpenSsl in new[] { true, false })
        {
            CarriesLikeTheReference(iv, plaintext, useOpenSsl);
        }
    }

    private static void CarriesLikeTheReference(byte[] iv, byte[] plaintext, bool useOpenSsl)
    {
        using var ctr = new AesCtr(s_key, useOpenSsl);
        byte[] actual = new byte[plaintext.Length];
        ctr.Transform(iv, 0, plaintext, actual);
        Assert.Equal(ReferenceCtr(s_key, iv, plaintext), actual);
    }

    private static readonly int[] s_interestingOffsets =
        [0, 1, 15, 16, 17, 31, 32, 33, KeystreamBuffer - 17, KeystreamBuffer - 16, KeystreamBuffer - 1, KeystreamBuffer,
         KeystreamBuffer + 1, KeystreamBuffer + 15, KeystreamBuffer + 16, (2 * KeystreamBuffer) + 3];

    private static readonly int[] s_interestingLengths =
        [0, 1, 15, 16, 17, 31, 32, 33, KeystreamBuffer - 1, KeystreamBuffer, KeystreamBuffer + 1, KeystreamBuffer + 17];

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Every_range_around_block_and_buffer_boundaries_decrypts_alone(bool useOpenSsl)
    {
        byte[] iv = Convert.FromHexString("0000000000000000fffffffffffffffe");
        byte[] plaintext = RandomNumberGenerator.GetBytes((3 * KeystreamBuffer) + 100);
        byte[] ciphertext = ReferenceCtr(s_key, iv, plaintext);
        using var ctr = new AesCtr(s_key, useOpenSsl);
        foreach (int offset in s_interestingOffsets)
        {
            foreach (int length in s_interestingLengths)
            {
                int n = Math.Min(length, plaintext.Length - offset);
                byte[] output = new byte[n];
                ctr.Transform(iv, offset, ciphertext.AsSpan(offset, n), output);
                Assert.True(plaintext.AsSpan(offset, n).SequenceEqual(output), $"offset {offset} length {n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Any_range_decrypts_to_the_same_bytes_as_the_whole(bool useOpenSsl) =>
        Prop.ForAll(
            Gen.Choose(0, (3 * KeystreamBuffer) + 40).ToArbitrary(),
            Gen.Choose(0, (2 * KeystreamBuffer) + 40).ToArbitrary(),
            (offset, length) =>
            {
                byte[] iv = RandomNumberGenerator.GetBytes(16);
                byte[] plaintext = RandomNumberGenerator.GetBytes((3 * KeystreamBuffer) + 41);
                using var ctr = new AesCtr(s_key, useOpenSsl);
                byte[] ciphertext = new byte[plaintext.Length];
                ctr.Transform(iv, 0, plaintext, ciphertext);
                int n = Math.Min(length, plaintext.Length - offset);
                byte[] output = new byte[n];
                ctr.Transform(iv, offset, ciphertext.AsSpan(offset, n), output);
                return plaintext.AsSpan(offset, n).SequenceEqual(output);
            }).QuickCheckThrowOnFailure();

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Round_trip_of_any_length_restores_the_plaintext(bool useOpenSsl) =>
        Prop.ForAll(
            Gen.Choose(0, 200_000).ToArbitrary(),
            length =>
            {
                byte[] iv = RandomNumberGenerator.GetBytes(16);
                byte[] plaintext = RandomNumberGenerator.GetBytes(length);
                byte[] data = (byte[])plaintext.Clone();
                using var ctr = new AesCtr(s_key, useOpenSsl);
                ctr.Transform(iv, 0, data);
                bool changed = length < 16 || !data.AsSpan().SequenceEqual(plaintext);
                ctr.Transform(iv, 0, data);
                return changed && data.AsSpan().SequenceEqual(plaintext);
            }).QuickCheckThrowOnFailure();

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Wrong_key_or_IV_size_is_refused(bool useOpenSsl)
    {
        Assert.Throws<ArgumentException>(() => new AesCtr(new byte[16], useOpenSsl));
        using var ctr = new AesCtr(s_key, useOpenSsl);
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[8], 0, new byte[16]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ctr.Transform(new byte[16], -1, new byte[16]));
        byte[] buffer = new byte[64];
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[16], 0, buffer.AsSpan(0, 32), buffer.AsSpan(16, 32)));
        ctr.Transform(new byte[16], 0, buffer.AsSpan(0, 32), buffer.AsSpan(32, 32)); // adjacent, not overlapping
    }

    [Fact]
    public void OpenSsl_does_the_work_on_Linux()
    {
        // The fast path must not fall away silently: every Linux machine that runs .NET's TLS has OpenSSL 3.
        using var ctr = new AesCtr(s_key);
        Assert.True(ctr.UsesOpenSsl, "libcrypto.so.3 was not found or offers no AES-256-CTR");
        using var portable = new AesCtr(s_key, useOpenSsl: false);
        Assert.False(portable.UsesOpenSsl);
    }
}
