using System.Security.Cryptography;
using System.Text;
using NexNet.Crypto.Internal;

namespace NexNet.Crypto;

/// <summary>
/// The subkeys of one volume, derived from its 32-byte secret with HKDF-SHA256 under distinct labels, so
/// that no key is ever used for two purposes and none reveals another.
/// </summary>
public sealed class VolumeKeys : IDisposable
{
    public const int SecretSize = 32;

    // Labels are part of the on-disk format: changing one makes every existing volume unreadable.
    internal const string ContentLabel = "nexnet/v1/content-key";
    internal const string ChunkIdLabel = "nexnet/v1/chunk-id-key";
    internal const string RecordEncryptionLabel = "nexnet/v1/record-encryption-key";
    internal const string RecordMacLabel = "nexnet/v1/record-mac-key";
    internal const string PathLabel = "nexnet/v1/path-key";
    internal const string BlobTagLabel = "nexnet/v1/blob-iv-tag-key";
    internal const string SigningLabel = "nexnet/v2/record-signing-key";

    /// <summary>Bytes of HKDF output the signing scalar is reduced from (32 + 16, so the reduction is unbiased to 2^-128).</summary>
    internal const int SigningSeedSize = 48;

    private static readonly byte[] s_salt = Encoding.ASCII.GetBytes("NexNet.Fs volume");

    private VolumeKeys(byte[] content, byte[] chunkId, byte[] recordEncryption, byte[] recordMac, byte[] path, byte[] blobTag, byte[] signingSeed)
    {
        SigningSeed = signingSeed;
        BlobTagKey = blobTag;
        ContentKey = content;
        ChunkIdKey = chunkId;
        RecordEncryptionKey = recordEncryption;
        RecordMacKey = recordMac;
        PathKey = path;
    }

    /// <summary>AES-256 key for chunk contents.</summary>
    public byte[] ContentKey { get; }

    /// <summary>HMAC-SHA256 key that names chunks.</summary>
    public byte[] ChunkIdKey { get; }

    public byte[] RecordEncryptionKey { get; }

    public byte[] RecordMacKey { get; }

    /// <summary>HMAC key that turns a path into its record key, so peers can index records without seeing paths.</summary>
    public byte[] PathKey { get; }

    /// <summary>HMAC key that binds a blob's IV to its chunk id.</summary>
    public byte[] BlobTagKey { get; }

    /// <summary>What the volume's signing key pair is made from (<see cref="VolumeSigner"/>).</summary>
    internal byte[] SigningSeed { get; }

    public static VolumeKeys Derive(ReadOnlySpan<byte> volumeSecret)
    {
        if (volumeSecret.Length != SecretSize)
        {
            throw new ArgumentException($"a volume secret is {SecretSize} bytes, got {volumeSecret.Length}", nameof(volumeSecret));
        }

        byte[] prk = Hkdf.Extract(volumeSecret, s_salt);
        try
        {
            return new VolumeKeys(
                Expand(prk, ContentLabel),
                Expand(prk, ChunkIdLabel),
                Expand(prk, RecordEncryptionLabel),
                Expand(prk, RecordMacLabel),
                Expand(prk, PathLabel),
                Expand(prk, BlobTagLabel),
                Hkdf.Expand(prk, Encoding.ASCII.GetBytes(SigningLabel), SigningSeedSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(prk);
        }
    }

    private static byte[] Expand(byte[] prk, string label) => Hkdf.Expand(prk, Encoding.ASCII.GetBytes(label), 32);

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(ContentKey);
        CryptographicOperations.ZeroMemory(ChunkIdKey);
        CryptographicOperations.ZeroMemory(RecordEncryptionKey);
        CryptographicOperations.ZeroMemory(RecordMacKey);
        CryptographicOperations.ZeroMemory(PathKey);
        CryptographicOperations.ZeroMemory(BlobTagKey);
        CryptographicOperations.ZeroMemory(SigningSeed);
    }
}
