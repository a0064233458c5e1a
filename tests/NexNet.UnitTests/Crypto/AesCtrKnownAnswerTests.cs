using NexNet.Crypto;
using NexNet.UnitTests.Support;

namespace NexNet.UnitTests.Crypto;

/// <summary>NIST SP 800-38A, F.5.5 (CTR-AES256.Encrypt) and F.5.6 (CTR-AES256.Decrypt), on OpenSSL's CTR and on the portable path.</summary>
public class AesCtrKnownAnswerTests
{
    public static TheoryData<bool> Implementations() => [true, false];

    private static readonly byte[] s_key = Hex.Bytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    private static readonly byte[] s_initialCounter = Hex.Bytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");

    private static readonly byte[] s_plaintext = Hex.Bytes(
        "6bc1bee22e409f96e93d7e117393172a" +
        "ae2d8a571e03ac9c9eb76fac45af8e51" +
        "30c81c46a35ce411e5fbc1191a0a52ef" +
        "f69f2445df4f9b17ad2b417be66c3710");

    private static readonly byte[] s_ciphertext = Hex.Bytes(
        "601ec313775789a5b7a7f504bbf3d228" +
        "f443e3ca4d62b59aca84e990cacaf5c5" +
        "2b0930daa23de94ce87017ba2d84988d" +
        "dfc9c58db67aada613c2dd08457941a6");

    [Theory]
    [MemberData(nameof(Implementations))]
    public void F_5_5_encrypt_matches_the_standard(bool useOpenSsl)
    {
        using var ctr = new AesCtr(s_key, useOpenSsl);
        byte[] output = new byte[s_plaintext.Length];
        ctr.Transform(s_initialCounter, 0, s_plaintext, output);
        Assert.Equal(Hex.Of(s_ciphertext), Hex.Of(output));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void F_5_6_decrypt_matches_the_standard(bool useOpenSsl)
    {
        using var ctr = new AesCtr(s_key, useOpenSsl);
        byte[] output = new byte[s_ciphertext.Length];
        ctr.Transform(s_initialCounter, 0, s_ciphertext, output);
        Assert.Equal(Hex.Of(s_plaintext), Hex.Of(output));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    public void Each_block_decrypts_alone_at_its_offset(int block, bool useOpenSsl)
    {
        using var ctr = new AesCtr(s_key, useOpenSsl);
        byte[] output = new byte[16];
        ctr.Transform(s_initialCounter, block * 16, s_ciphertext.AsSpan(block * 16, 16), output);
        Assert.Equal(Hex.Of(s_plaintext.AsSpan(block * 16, 16)), Hex.Of(output));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void In_place_transform_equals_out_of_place(bool useOpenSsl)
    {
        using var ctr = new AesCtr(s_key, useOpenSsl);
        byte[] data = (byte[])s_plaintext.Clone();
        ctr.Transform(s_initialCounter, 0, data);
        Assert.Equal(Hex.Of(s_ciphertext), Hex.Of(data));
    }
}
