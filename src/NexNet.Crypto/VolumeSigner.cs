using System.Numerics;
using System.Security.Cryptography;

namespace NexNet.Crypto;

/// <summary>
/// The volume's signing key: an ECDSA P-256 key pair derived from the volume secret, so every member has
/// the same one without it ever being stored or sent. Members sign what storage peers must act on
/// (records they keep and relay, collect notices); storage peers hold only the public half
/// (<see cref="VolumeVerifier"/>), so they can check a signature but never make one.
/// </summary>
/// <remarks>
/// The private scalar is <c>d = (x mod (n − 1)) + 1</c> for the 48-byte HKDF output <c>x</c> under the
/// label <c>nexnet/v2/record-signing-key</c> (docs/formats.md): 128 bits more than n, so the reduction's
/// bias is negligible, and never zero.
/// </remarks>
public sealed class VolumeSigner : IDisposable
{
    /// <summary>The order n of the P-256 group (FIPS 186-4, D.1.2.3).</summary>
    private static readonly BigInteger s_order = BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber,
        System.Globalization.CultureInfo.InvariantCulture);

    private readonly ECDsa _key;

    private VolumeSigner(ECDsa key, byte[] publicKey)
    {
        _key = key;
        PublicKey = publicKey;
        Verifier = new VolumeVerifier(publicKey);
    }

    /// <summary>The public half as SEC 1 uncompressed point (65 bytes): what storage-only invites carry.</summary>
    public byte[] PublicKey { get; }

    /// <summary>A verifier of this key's signatures.</summary>
    public VolumeVerifier Verifier { get; }

    public static VolumeSigner Create(VolumeKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var x = new BigInteger(keys.SigningSeed, isUnsigned: true, isBigEndian: true);
        BigInteger d = (x % (s_order - 1)) + 1;
        byte[] scalar = new byte[32];
        if (!d.TryWriteBytes(scalar.AsSpan(32 - d.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true))
        {
            throw new CryptographicException("the signing scalar does not fit in 32 bytes");
        }

        ECDsa key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = scalar });
        CryptographicOperations.ZeroMemory(scalar);
        ECParameters parameters = key.ExportParameters(includePrivateParameters: false);
        return new VolumeSigner(key, VolumeVerifier.Encode(parameters.Q));
    }

    /// <summary>Signs <paramref name="parts"/> (hashed in order after the domain's label): 64 bytes, r | s.</summary>
    public byte[] Sign(SignatureDomain domain, params ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        VolumeVerifier.Hash(domain, parts, hash);
        return _key.SignHash(hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public void Dispose()
    {
        _key.Dispose();
        Verifier.Dispose();
    }
}
