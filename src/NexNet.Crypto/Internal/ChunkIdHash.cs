using System.Security.Cryptography;

namespace NexNet.Crypto.Internal;

/// <summary>
/// The keyed hash that names a chunk, fed piece by piece, for the blob format version that says which:
/// 1, HMAC-SHA256; 2, keyed BLAKE3. One place decides, so writing, opening and verifying cannot disagree.
/// </summary>
internal abstract class ChunkIdHash : IDisposable
{
    public static ChunkIdHash Create(byte version, ReadOnlySpan<byte> key) => version switch
    {
        1 => new Hmac(key),
        2 => new Blake3Keyed(key),
        _ => throw new IntegrityException($"blob format version {version} has no chunk-id hash"),
    };

    public abstract void Append(ReadOnlySpan<byte> data);

    /// <summary>The id of everything appended.</summary>
    public ChunkId Finish()
    {
        Span<byte> hash = stackalloc byte[ChunkId.Size];
        WriteHash(hash);
        return ChunkId.FromBytes(hash);
    }

    public abstract void Dispose();

    /// <summary>Writes the 32-byte hash of everything appended.</summary>
    protected abstract void WriteHash(Span<byte> destination);

    private sealed class Hmac(ReadOnlySpan<byte> key) : ChunkIdHash
    {
        private readonly IncrementalHash _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);

        public override void Append(ReadOnlySpan<byte> data) => _hmac.AppendData(data);

        protected override void WriteHash(Span<byte> destination) => _hmac.GetHashAndReset(destination);

        public override void Dispose() => _hmac.Dispose();
    }

    private sealed class Blake3Keyed : ChunkIdHash
    {
        private readonly Blake3.Hasher _hasher;

        public Blake3Keyed(ReadOnlySpan<byte> key)
        {
            if (key.Length != ChunkId.Size)
            {
                throw new ArgumentException($"a keyed BLAKE3 key is {ChunkId.Size} bytes, got {key.Length}", nameof(key));
            }

            _hasher = Blake3.Hasher.NewKeyed(key);
        }

        public override void Append(ReadOnlySpan<byte> data) => _hasher.Update(data);

        protected override void WriteHash(Span<byte> destination) => _hasher.Finalize(destination);

        public override void Dispose() => _hasher.Dispose();
    }
}
