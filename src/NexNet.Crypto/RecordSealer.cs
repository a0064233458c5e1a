using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace NexNet.Crypto;

/// <summary>
/// Seals entry records for the wire and for storage peers: encrypt-then-MAC with two independent keys.
/// <c>sealed = version (1) | IV (16) | AES-256-CTR(record key, IV, body) | HMAC-SHA256(mac key, ...)(32)</c>.
/// </summary>
/// <remarks>
/// The MAC covers the version, the associated data (the record key and the clear version stamp a storage
/// peer needs), the IV and the ciphertext, with the associated data's length, so a sealed body can be
/// neither altered, nor moved to another path, nor replayed under another version without detection.
/// The MAC is checked in constant time before anything is decrypted.
/// </remarks>
public sealed class RecordSealer : IDisposable
{
    public const byte Version = 1;
    public const int TagSize = 32;
    public const int Overhead = 1 + AesCtr.IvSize + TagSize;

    private readonly byte[] _encryptionKey;
    private readonly byte[] _macKey;
    private readonly byte[] _pathKey;

    /// <summary>One cipher per thread: making one per record (a key schedule and its buffers) cost more than the record.</summary>
    private readonly ThreadLocal<AesCtr> _ctr;

    public RecordSealer(VolumeKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _encryptionKey = (byte[])keys.RecordEncryptionKey.Clone();
        _macKey = (byte[])keys.RecordMacKey.Clone();
        _pathKey = (byte[])keys.PathKey.Clone();
        byte[] encryptionKey = _encryptionKey;
        _ctr = new ThreadLocal<AesCtr>(() => new AesCtr(encryptionKey), trackAllValues: true);
    }

    /// <summary>The record key of a path: HMAC(path key, UTF-8 path). Stable, and opaque without the volume secret.</summary>
    public byte[] RecordKey(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return HMACSHA256.HashData(_pathKey, Encoding.UTF8.GetBytes(path));
    }

    public byte[] Seal(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> body)
    {
        byte[] sealedRecord = new byte[Overhead + body.Length];
        sealedRecord[0] = Version;
        Span<byte> iv = sealedRecord.AsSpan(1, AesCtr.IvSize);
        RandomNumberGenerator.Fill(iv);
        _ctr.Value!.Transform(iv, 0, body, sealedRecord.AsSpan(1 + AesCtr.IvSize, body.Length));

        ComputeTag(associatedData, sealedRecord.AsSpan(0, sealedRecord.Length - TagSize), sealedRecord.AsSpan(sealedRecord.Length - TagSize));
        return sealedRecord;
    }

    /// <summary>Verifies and decrypts; throws <see cref="IntegrityException"/> if anything was altered.</summary>
    public byte[] Open(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> sealedRecord)
    {
        if (sealedRecord.Length < Overhead)
        {
            throw new IntegrityException($"sealed record is {sealedRecord.Length} bytes, shorter than its {Overhead}-byte overhead");
        }

        if (sealedRecord[0] != Version)
        {
            throw new IntegrityException($"sealed record version {sealedRecord[0]} is not supported");
        }

        ReadOnlySpan<byte> authenticated = sealedRecord[..^TagSize];
        Span<byte> tag = stackalloc byte[TagSize];
        ComputeTag(associatedData, authenticated, tag);
        if (!CryptographicOperations.FixedTimeEquals(tag, sealedRecord[^TagSize..]))
        {
            throw new IntegrityException("sealed record failed authentication (corrupt, tampered, or for another path or version)");
        }

        ReadOnlySpan<byte> iv = sealedRecord.Slice(1, AesCtr.IvSize);
        ReadOnlySpan<byte> ciphertext = authenticated[(1 + AesCtr.IvSize)..];
        byte[] body = new byte[ciphertext.Length];
        _ctr.Value!.Transform(iv, 0, ciphertext, body);

        return body;
    }

    private void ComputeTag(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> versionIvCiphertext, Span<byte> tag)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _macKey);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)associatedData.Length);
        hmac.AppendData(length);
        hmac.AppendData(associatedData);
        hmac.AppendData(versionIvCiphertext);
        hmac.GetHashAndReset(tag);
    }

    public void Dispose()
    {
        foreach (AesCtr ctr in _ctr.Values)
        {
            ctr.Dispose();
        }

        _ctr.Dispose();
        CryptographicOperations.ZeroMemory(_encryptionKey);
        CryptographicOperations.ZeroMemory(_macKey);
        CryptographicOperations.ZeroMemory(_pathKey);
    }
}
