using System.Security.Cryptography;
using NexNet.Crypto.Internal;

namespace NexNet.Crypto;

/// <summary>
/// Names, seals and opens chunks of one volume. Thread-safe: each thread gets its own CTR transform.
/// </summary>
/// <remarks>
/// Sealing takes the plaintext already placed after the header in the destination buffer, so a chunk
/// is read once into one buffer, hashed, and encrypted in place: no second copy of a chunk is made.
/// </remarks>
public sealed class BlobCipher : IDisposable
{
    private readonly byte[] _chunkIdKey;
    private readonly byte[] _blobTagKey;
    private readonly ThreadLocal<AesCtr> _ctr;

    public BlobCipher(VolumeKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _chunkIdKey = (byte[])keys.ChunkIdKey.Clone();
        _blobTagKey = (byte[])keys.BlobTagKey.Clone();
        byte[] contentKey = (byte[])keys.ContentKey.Clone();
        _ctr = new ThreadLocal<AesCtr>(() => new AesCtr(contentKey), trackAllValues: true);
    }

    /// <summary>The chunk-id key (tests compute ids of older format versions with it).</summary>
    internal ReadOnlySpan<byte> ChunkIdKey => _chunkIdKey;

    /// <summary>The id a new chunk gets: keyed BLAKE3(chunk-id key, plaintext), blob format <see cref="BlobFormat.Version"/>.</summary>
    public ChunkId ComputeId(ReadOnlySpan<byte> plaintext) => ComputeId(BlobFormat.Version, _chunkIdKey, plaintext);

    /// <summary>A chunk id as blob format <paramref name="version"/> defines it: 1, HMAC-SHA256; 2, keyed BLAKE3 (the key is 32 bytes).</summary>
    internal static ChunkId ComputeId(byte version, ReadOnlySpan<byte> chunkIdKey, ReadOnlySpan<byte> plaintext)
    {
        using ChunkIdHash hash = ChunkIdHash.Create(version, chunkIdKey);
        hash.Append(plaintext);
        return hash.Finish();
    }

    /// <summary>
    /// Seals the plaintext that sits at <c>buffer[HeaderSize..HeaderSize+plaintextLength]</c> in place:
    /// writes the header with a fresh random IV and its tag, and encrypts. <paramref name="id"/> must be
    /// the plaintext's <see cref="ComputeId(ReadOnlySpan{byte})"/>. Returns the sealed length.
    /// </summary>
    public int SealInPlace(Span<byte> buffer, int plaintextLength, ChunkId id) => SealInPlace(buffer, plaintextLength, id, BlobFormat.Version);

    /// <summary>As <see cref="SealInPlace(Span{byte}, int, ChunkId)"/>, in an older format version (tests make the blobs older builds wrote).</summary>
    internal int SealInPlace(Span<byte> buffer, int plaintextLength, ChunkId id, byte version)
    {
        // No empty blobs: files are chunked so that no chunk is ever empty, and a zero-length blob has
        // nothing for a reader to check but the header.
        ArgumentOutOfRangeException.ThrowIfLessThan(plaintextLength, 1);
        int sealedLength = BlobFormat.SealedLength(plaintextLength);
        if (buffer.Length < sealedLength)
        {
            throw new ArgumentException("buffer is too small for the sealed blob", nameof(buffer));
        }

        BlobFormat.WriteMagic(buffer, version);
        Span<byte> iv = buffer.Slice(BlobFormat.IvOffset, AesCtr.IvSize);
        RandomNumberGenerator.Fill(iv);
        ComputeIvTag(iv, id, buffer.Slice(BlobFormat.IvTagOffset, BlobFormat.IvTagSize));
        _ctr.Value!.Transform(iv, 0, buffer.Slice(BlobFormat.HeaderSize, plaintextLength));
        return sealedLength;
    }

    /// <summary>Names and seals <paramref name="plaintext"/> into <paramref name="destination"/>; returns the id and the sealed length.</summary>
    public (ChunkId Id, int Length) Seal(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        int sealedLength = BlobFormat.SealedLength(plaintext.Length);
        if (destination.Length < sealedLength)
        {
            throw new ArgumentException("destination is too small for the sealed blob", nameof(destination));
        }

        ChunkId id = ComputeId(plaintext);
        plaintext.CopyTo(destination[BlobFormat.HeaderSize..]);
        return (id, SealInPlace(destination, plaintext.Length, id));
    }

    /// <summary>
    /// Checks a blob header (magic, version, and the IV's tag for this id) and returns the IV, for range
    /// reads of a local blob. Throws <see cref="IntegrityException"/> if the header is damaged.
    /// </summary>
    public ReadOnlySpan<byte> VerifiedIv(ReadOnlySpan<byte> header, ChunkId id)
    {
        ReadOnlySpan<byte> iv = BlobFormat.ReadIv(header);
        Span<byte> tag = stackalloc byte[BlobFormat.IvTagSize];
        ComputeIvTag(iv, id, tag);
        if (!CryptographicOperations.FixedTimeEquals(tag, header.Slice(BlobFormat.IvTagOffset, BlobFormat.IvTagSize)))
        {
            throw new IntegrityException($"blob {id} has a damaged or tampered header");
        }

        return iv;
    }

    /// <summary>
    /// Everything about a whole blob that can be checked without decrypting it: the header (<see cref="VerifiedIv"/>)
    /// and that some content follows. Returns the IV; throws <see cref="IntegrityException"/>.
    /// </summary>
    public ReadOnlySpan<byte> CheckHeader(ReadOnlySpan<byte> sealedBlob, ChunkId id)
    {
        ReadOnlySpan<byte> iv = VerifiedIv(sealedBlob, id);
        if (sealedBlob.Length == BlobFormat.HeaderSize)
        {
            throw new IntegrityException($"blob {id} has no content (a valid blob holds at least one byte)");
        }

        return iv;
    }

    /// <summary>
    /// Decrypts <paramref name="ciphertext"/>, which starts at plaintext offset <paramref name="offset"/>
    /// of a blob with the given IV, into <paramref name="plaintext"/> (which may be the same memory).
    /// </summary>
    public void DecryptRange(ReadOnlySpan<byte> iv, long offset, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext) =>
        _ctr.Value!.Transform(iv, offset, ciphertext, plaintext);

    /// <summary>
    /// The member-side check for a whole blob from anywhere untrusted: checks the header and IV tag,
    /// decrypts into <paramref name="plaintext"/>, and verifies that the plaintext hashes to
    /// <paramref name="expected"/>. Returns the plaintext length; throws <see cref="IntegrityException"/>
    /// on any mismatch, so any changed bit anywhere in the blob is rejected.
    /// </summary>
    public int Open(ReadOnlySpan<byte> sealedBlob, ChunkId expected, Span<byte> plaintext)
    {
        ReadOnlySpan<byte> iv = CheckHeader(sealedBlob, expected);
        ReadOnlySpan<byte> ciphertext = sealedBlob[BlobFormat.HeaderSize..];

        if (plaintext.Length < ciphertext.Length)
        {
            throw new ArgumentException("plaintext buffer is too small", nameof(plaintext));
        }

        Span<byte> output = plaintext[..ciphertext.Length];
        _ctr.Value!.Transform(iv, 0, ciphertext, output);
        if (!ComputeId(BlobFormat.VersionOf(sealedBlob), _chunkIdKey, output).FixedTimeEquals(expected))
        {
            output.Clear();
            throw new IntegrityException($"blob {expected} does not match its id (corrupt or tampered)");
        }

        return output.Length;
    }

    /// <summary>
    /// <see cref="Open"/> without keeping the plaintext: decrypts through a small scratch buffer and hashes
    /// as it goes. For blobs that arrive to be stored rather than read.
    /// </summary>
    public void Verify(ReadOnlySpan<byte> sealedBlob, ChunkId expected)
    {
        ReadOnlySpan<byte> iv = CheckHeader(sealedBlob, expected);
        ReadOnlySpan<byte> ciphertext = sealedBlob[BlobFormat.HeaderSize..];

        // Pieces of 256 KiB: the managed BLAKE3 pays a fixed cost per call (it hashed 64 KiB pieces at
        // half its one-call speed), and 256 KiB still fits in L2 between the decrypt and the hash.
        const int Step = 256 * 1024;
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(Step, ciphertext.Length));
        try
        {
            using ChunkIdHash hash = ChunkIdHash.Create(BlobFormat.VersionOf(sealedBlob), _chunkIdKey);
            AesCtr ctr = _ctr.Value!;
            for (int at = 0; at < ciphertext.Length; at += Step)
            {
                int n = Math.Min(Step, ciphertext.Length - at);
                Span<byte> piece = scratch.AsSpan(0, n);
                ctr.Transform(iv, at, ciphertext.Slice(at, n), piece);
                hash.Append(piece);
            }

            if (!hash.Finish().FixedTimeEquals(expected))
            {
                throw new IntegrityException($"blob {expected} does not match its id (corrupt or tampered)");
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch, clearArray: true);
        }
    }

    private void ComputeIvTag(ReadOnlySpan<byte> iv, ChunkId id, Span<byte> tag)
    {
        Span<byte> input = stackalloc byte[AesCtr.IvSize + ChunkId.Size];
        iv.CopyTo(input);
        id.WriteTo(input[AesCtr.IvSize..]);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_blobTagKey, input, mac);
        mac[..BlobFormat.IvTagSize].CopyTo(tag);
    }

    public void Dispose()
    {
        foreach (AesCtr ctr in _ctr.Values)
        {
            ctr.Dispose();
        }

        _ctr.Dispose();
        CryptographicOperations.ZeroMemory(_chunkIdKey);
        CryptographicOperations.ZeroMemory(_blobTagKey);
    }
}
