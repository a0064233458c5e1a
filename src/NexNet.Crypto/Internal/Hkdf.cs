using System.Security.Cryptography;

namespace NexNet.Crypto.Internal;

/// <summary>HKDF-SHA256 (RFC 5869) as the volume's key schedule uses it: one place, tested against the RFC's vectors.</summary>
internal static class Hkdf
{
    public static byte[] Extract(ReadOnlySpan<byte> inputKeyMaterial, ReadOnlySpan<byte> salt)
    {
        byte[] prk = new byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, inputKeyMaterial, salt, prk);
        return prk;
    }

    public static byte[] Expand(ReadOnlySpan<byte> prk, ReadOnlySpan<byte> info, int length)
    {
        byte[] okm = new byte[length];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, okm, info);
        return okm;
    }
}
