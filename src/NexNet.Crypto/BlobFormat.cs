namespace NexNet.Crypto;

/// <summary>
/// The layout of a sealed blob, the unit that is stored and sent:
/// <c>magic "NXB" | format version (1 byte) | IV (16 bytes) | IV tag (16 bytes) | AES-256-CTR(content key, IV, plaintext)</c>.
/// The IV tag is HMAC-SHA256(blob-tag key, IV | chunk id) cut to 16 bytes. The chunk id authenticates the
/// plaintext; the tag authenticates the IV, which the id alone cannot do for short chunks (a changed IV
/// can leave a one-byte plaintext unchanged), and lets a range read detect a damaged header cheaply.
/// Ciphertext is exactly as long as the plaintext, so a plaintext range maps to the same range after the header.
/// A blob holds at least one byte: with none, the IV would not be covered by the chunk-id check.
/// </summary>
/// <remarks>
/// The version says how the blob's chunk id was made: 1, HMAC-SHA256 under the chunk-id key; 2 (written
/// now), keyed BLAKE3 under the same key, which hashes 2.5 times as fast (docs/formats.md). Both are read.
/// </remarks>
public static class BlobFormat
{
    /// <summary>The version new blobs are written in.</summary>
    public const byte Version = 2;

    /// <summary>The oldest version still read.</summary>
    public const byte OldestVersion = 1;
    public const int MagicSize = 4;
    public const int IvOffset = MagicSize;
    public const int IvTagOffset = IvOffset + AesCtr.IvSize;
    public const int IvTagSize = 16;
    public const int HeaderSize = IvTagOffset + IvTagSize;

    /// <summary>Bytes a sealed blob takes for a plaintext of <paramref name="plaintextLength"/> bytes.</summary>
    public static int SealedLength(int plaintextLength) => HeaderSize + plaintextLength;

    /// <summary>
    /// What a node without the volume key can check of a blob: its magic, version, and that it holds at
    /// least one byte of content. Throws <see cref="IntegrityException"/> otherwise.
    /// </summary>
    public static void CheckStructure(ReadOnlySpan<byte> sealedBlob)
    {
        _ = ReadIv(sealedBlob);
        if (sealedBlob.Length == HeaderSize)
        {
            throw new IntegrityException("blob has no content (a valid blob holds at least one byte)");
        }
    }

    internal static void WriteMagic(Span<byte> header, byte version)
    {
        header[0] = (byte)'N';
        header[1] = (byte)'X';
        header[2] = (byte)'B';
        header[3] = version;
    }

    /// <summary>Checks the magic and version and returns the IV (not yet authenticated); throws <see cref="IntegrityException"/> on anything else.</summary>
    internal static ReadOnlySpan<byte> ReadIv(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderSize)
        {
            throw new IntegrityException($"blob is {header.Length} bytes, shorter than its {HeaderSize}-byte header");
        }

        if (header[0] != 'N' || header[1] != 'X' || header[2] != 'B')
        {
            throw new IntegrityException("not a NexNet blob (bad magic)");
        }

        if (header[3] is < OldestVersion or > Version)
        {
            throw new IntegrityException($"blob format version {header[3]} is not supported (this build reads versions {OldestVersion} to {Version})");
        }

        return header.Slice(IvOffset, AesCtr.IvSize);
    }

    /// <summary>The format version of a blob whose header <see cref="ReadIv"/> accepted.</summary>
    internal static byte VersionOf(ReadOnlySpan<byte> header) => header[3];
}
