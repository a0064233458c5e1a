using System.Security.Cryptography;
using System.Text;

namespace NexNet.Crypto;

/// <summary>
/// The public half of the volume's signing key (<see cref="VolumeSigner"/>): what a storage peer holds to
/// tell what members signed from what any holder of the network key could send.
/// </summary>
public sealed class VolumeVerifier : IDisposable
{
    public const int PublicKeySize = 65;
    public const int SignatureSize = 64;

    private readonly ECDsa _key;

    /// <summary>Takes a SEC 1 uncompressed P-256 point; throws <see cref="IntegrityException"/> for anything else (or a point off the curve).</summary>
    public VolumeVerifier(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != PublicKeySize || publicKey[0] != 0x04)
        {
            throw new IntegrityException($"a volume public key is {PublicKeySize} bytes starting 0x04 (an uncompressed P-256 point)");
        }

        try
        {
            _key = ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = publicKey[1..33].ToArray(), Y = publicKey[33..].ToArray() },
            });
        }
        catch (CryptographicException e)
        {
            throw new IntegrityException($"the volume public key is not a point of P-256: {e.Message}");
        }

        PublicKey = publicKey.ToArray();
    }

    public byte[] PublicKey { get; }

    /// <summary>True when <paramref name="signature"/> is the volume key's over <paramref name="parts"/> in <paramref name="domain"/>.</summary>
    public bool Verify(SignatureDomain domain, ReadOnlySpan<byte> signature, params ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        if (signature.Length != SignatureSize)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(domain, parts, hash);
        return _key.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    internal static byte[] Encode(ECPoint q) => [0x04, .. q.X!, .. q.Y!];

    /// <summary>SHA-256 of the domain's label, then each part with its length (u32 BE) before it, so parts cannot slide into each other.</summary>
    internal static void Hash(SignatureDomain domain, ReadOnlySpan<ReadOnlyMemory<byte>> parts, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.ASCII.GetBytes(Label(domain)));
        Span<byte> length = stackalloc byte[4];
        foreach (ReadOnlyMemory<byte> part in parts)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(length, (uint)part.Length);
            hash.AppendData(length);
            hash.AppendData(part.Span);
        }

        hash.GetHashAndReset(destination);
    }

    private static string Label(SignatureDomain domain) => domain switch
    {
        SignatureDomain.Record => "nexnet/v2/signed-record\0",
        SignatureDomain.Collect => "nexnet/v2/signed-collect\0",
        SignatureDomain.Replace => "nexnet/v2/signed-replace\0",
        _ => throw new ArgumentOutOfRangeException(nameof(domain)),
    };

    public void Dispose() => _key.Dispose();
}
