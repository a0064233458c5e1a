using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Win32.SafeHandles;

namespace NexNet.Node.Replication;

/// <summary>
/// A cheap proof that a peer holds a chunk's real blob, not a bare "I have it". The asker sends a fresh
/// nonce; for each chunk the holder returns its blob's header, its length, and an HMAC (keyed by the
/// nonce) over one range of its ciphertext that the nonce picks. A member checks it without the peer's
/// bytes: the header's IV tag binds the IV to the chunk id (only the volume key makes one), and the
/// ciphertext the range must hold is the member's own plaintext of that range encrypted under the peer's
/// IV. So a peer that kept a real header over junk, or any junk at all, fails, and a peer cannot answer
/// for a blob it does not have (the range and the nonce are new each time). Costs each side one 4 KiB read
/// per chunk, not a whole blob.
/// </summary>
internal static class PossessionProof
{
    public const int NonceSize = 16;
    private const int RangeBytes = 4096;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    /// <summary>The holder's side: a proof per id, from the blobs in <paramref name="blobs"/>.</summary>
    public static ProofReply Answer(BlobStore blobs, IReadOnlyList<ChunkId> ids, ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length != NonceSize)
        {
            throw new InvalidDataException($"a proof nonce is {NonceSize} bytes");
        }

        var reply = new ProofReply();
        byte[] header = new byte[BlobFormat.HeaderSize];
        byte[] range = new byte[RangeBytes];
        foreach (ChunkId id in ids)
        {
            try
            {
                using SafeFileHandle handle = blobs.OpenRead(id);
                long length = RandomAccess.GetLength(handle);
                if (length <= BlobFormat.HeaderSize || RandomAccess.Read(handle, header, 0) != header.Length)
                {
                    reply.Proofs.Add(new ChunkProof());
                    continue;
                }

                (long offset, int count) = RangeOf(nonce, id, length - BlobFormat.HeaderSize);
                int got = RandomAccess.Read(handle, range.AsSpan(0, count), BlobFormat.HeaderSize + offset);
                reply.Proofs.Add(new ChunkProof
                {
                    Present = true,
                    Header = ByteString.CopyFrom(header),
                    Length = (ulong)length,
                    Mac = ByteString.CopyFrom(Mac(nonce, id, header, length, range.AsSpan(0, got))),
                });
            }
            catch (BlobNotFoundException)
            {
                reply.Proofs.Add(new ChunkProof());
            }
        }

        return reply;
    }

    /// <summary>
    /// The member's side: true when <paramref name="proof"/> shows the peer holds a real blob of
    /// <paramref name="id"/>, checked against the local copy (which may have another IV: equal chunks
    /// sealed by two writers differ only in it); null when the local copy cannot be the reference (gone,
    /// or its own header damaged), so nothing is concluded about the peer.
    /// </summary>
    public static bool? Check(BlobCipher cipher, BlobStore blobs, ChunkId id, ReadOnlySpan<byte> nonce, ChunkProof proof)
    {
        if (!proof.Present || proof.Header.Length != BlobFormat.HeaderSize || proof.Mac.Length != HMACSHA256.HashSizeInBytes)
        {
            return false;
        }

        SafeFileHandle handle;
        try
        {
            handle = blobs.OpenRead(id);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }

        using SafeFileHandle _ = handle;
        long length = RandomAccess.GetLength(handle);
        if ((ulong)length != proof.Length)
        {
            return false; // another length is another plaintext: not this chunk
        }

        byte[] localHeader = new byte[BlobFormat.HeaderSize];
        byte[] ourIv;
        try
        {
            ourIv = RandomAccess.Read(handle, localHeader, 0) == localHeader.Length ? cipher.VerifiedIv(localHeader, id).ToArray() : throw new IntegrityException("short");
        }
        catch (IntegrityException)
        {
            return null;
        }

        byte[] theirIv;
        try
        {
            theirIv = cipher.VerifiedIv(proof.Header.Span, id).ToArray();
        }
        catch (IntegrityException)
        {
            return false;
        }

        (long offset, int count) = RangeOf(nonce, id, length - BlobFormat.HeaderSize);
        byte[] range = new byte[count];
        if (RandomAccess.Read(handle, range, BlobFormat.HeaderSize + offset) != count)
        {
            return null;
        }

        cipher.DecryptRange(ourIv, offset, range, range); // our plaintext of the range
        cipher.DecryptRange(theirIv, offset, range, range); // CTR both ways: now the range as their blob holds it
        return CryptographicOperations.FixedTimeEquals(Mac(nonce, id, proof.Header.Span, length, range), proof.Mac.Span);
    }

    /// <summary>The range the nonce picks in a blob of <paramref name="plaintextLength"/> bytes: up to 4 KiB, anywhere.</summary>
    private static (long Offset, int Count) RangeOf(ReadOnlySpan<byte> nonce, ChunkId id, long plaintextLength)
    {
        Span<byte> seed = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> input = stackalloc byte[NonceSize + ChunkId.Size];
        nonce.CopyTo(input);
        id.WriteTo(input[NonceSize..]);
        SHA256.HashData(input, seed);
        int count = (int)Math.Min(RangeBytes, plaintextLength);
        long offset = (long)(BinaryPrimitives.ReadUInt64BigEndian(seed) % (ulong)(plaintextLength - count + 1));
        return (offset, count);
    }

    private static byte[] Mac(ReadOnlySpan<byte> nonce, ChunkId id, ReadOnlySpan<byte> header, long length, ReadOnlySpan<byte> range)
    {
        using var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, nonce);
        Span<byte> buffer = stackalloc byte[ChunkId.Size];
        id.WriteTo(buffer);
        mac.AppendData(buffer);
        mac.AppendData(header);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(lengthBytes, length);
        mac.AppendData(lengthBytes);
        mac.AppendData(range);
        return mac.GetHashAndReset();
    }
}
