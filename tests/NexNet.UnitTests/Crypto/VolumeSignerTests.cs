using System.Security.Cryptography;
using NexNet.Crypto;

namespace NexNet.UnitTests.Crypto;

/// <summary>The volume signing key: the same for every member of a volume, different for another, and its signatures bound to what and to which domain.</summary>
public sealed class VolumeSignerTests
{
    private static VolumeSigner SignerOf(byte[] secret)
    {
        using VolumeKeys keys = VolumeKeys.Derive(secret);
        return VolumeSigner.Create(keys);
    }

    [Fact]
    public void Every_member_derives_the_same_public_key_and_another_volume_another()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        using VolumeSigner a = SignerOf(secret), b = SignerOf(secret), other = SignerOf(RandomNumberGenerator.GetBytes(32));
        Assert.Equal(VolumeVerifier.PublicKeySize, a.PublicKey.Length);
        Assert.Equal(0x04, a.PublicKey[0]);
        Assert.Equal(a.PublicKey, b.PublicKey);
        Assert.NotEqual(a.PublicKey, other.PublicKey);
    }

    [Fact]
    public void A_signature_verifies_with_the_public_key_alone_and_for_nothing_else()
    {
        using VolumeSigner signer = SignerOf(RandomNumberGenerator.GetBytes(32));
        using var verifier = new VolumeVerifier(signer.PublicKey);
        byte[] key = RandomNumberGenerator.GetBytes(32), body = RandomNumberGenerator.GetBytes(300);
        byte[] signature = signer.Sign(SignatureDomain.Record, key, body);
        Assert.Equal(VolumeVerifier.SignatureSize, signature.Length);
        Assert.True(verifier.Verify(SignatureDomain.Record, signature, key, body));

        Assert.False(verifier.Verify(SignatureDomain.Collect, signature, key, body)); // another domain
        Assert.False(verifier.Verify(SignatureDomain.Record, signature, body, key)); // parts swapped
        Assert.False(verifier.Verify(SignatureDomain.Record, signature, (byte[])[.. key, body[0]], body.AsMemory(1))); // a byte moved across parts
        byte[] flipped = (byte[])body.Clone();
        flipped[123] ^= 1;
        Assert.False(verifier.Verify(SignatureDomain.Record, signature, key, flipped));
        byte[] bad = (byte[])signature.Clone();
        bad[10] ^= 1;
        Assert.False(verifier.Verify(SignatureDomain.Record, bad, key, body));
        Assert.False(verifier.Verify(SignatureDomain.Record, signature.AsSpan(0, 63), key, body));
        using VolumeSigner other = SignerOf(RandomNumberGenerator.GetBytes(32));
        Assert.False(verifier.Verify(SignatureDomain.Record, other.Sign(SignatureDomain.Record, key, body), key, body));
    }

    [Fact]
    public void A_public_key_that_is_not_a_P256_point_is_refused()
    {
        using VolumeSigner signer = SignerOf(RandomNumberGenerator.GetBytes(32));
        byte[] offCurve = (byte[])signer.PublicKey.Clone();
        offCurve[64] ^= 1;
        Assert.Throws<IntegrityException>(() => new VolumeVerifier(offCurve));
        Assert.Throws<IntegrityException>(() => new VolumeVerifier(signer.PublicKey.AsSpan(0, 64)));
        Assert.Throws<IntegrityException>(() => new VolumeVerifier([0x02, .. signer.PublicKey[1..]]));
    }
}
