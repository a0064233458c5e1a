using System.Security.Cryptography;
using NexNet.Crypto;

namespace NexNet.UnitTests.Crypto;

/// <summary>Every single-bit change to a sealed blob or record is caught by the member-side check.</summary>
public sealed class TamperDetectionTests : IDisposable
{
    private readonly VolumeKeys _keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(100)]
    public void Every_flipped_bit_in_a_sealed_blob_is_rejected(int plaintextLength)
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(plaintextLength);
        ChunkId id = cipher.ComputeId(plaintext);
        byte[] sealedBlob = new byte[BlobFormat.SealedLength(plaintext.Length)];
        cipher.Seal(plaintext, sealedBlob);
        byte[] opened = new byte[plaintext.Length];
        Assert.Equal(plaintext.Length, cipher.Open(sealedBlob, id, opened));
        Assert.Equal(plaintext, opened);

        for (int bit = 0; bit < sealedBlob.Length * 8; bit++)
        {
            byte[] tampered = (byte[])sealedBlob.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<IntegrityException>(() => cipher.Open(tampered, id, new byte[plaintext.Length]));
        }
    }

    [Fact]
    public void Empty_blobs_cannot_be_sealed_or_opened()
    {
        using var cipher = new BlobCipher(_keys);
        Assert.Throws<ArgumentOutOfRangeException>(() => cipher.Seal([], new byte[BlobFormat.HeaderSize]));
        // A header-only blob with a valid tag for the empty plaintext's id is still refused.
        byte[] one = new byte[BlobFormat.SealedLength(1)];
        (ChunkId id, _) = cipher.Seal([7], one);
        Assert.Throws<IntegrityException>(() => cipher.Open(one.AsSpan(0, BlobFormat.HeaderSize), id, []));
    }

    [Fact]
    public void A_blob_presented_under_another_id_is_rejected()
    {
        using var cipher = new BlobCipher(_keys);
        byte[] sealedBlob = new byte[BlobFormat.SealedLength(64)];
        cipher.Seal(RandomNumberGenerator.GetBytes(64), sealedBlob);
        ChunkId other = cipher.ComputeId(RandomNumberGenerator.GetBytes(64));
        Assert.Throws<IntegrityException>(() => cipher.Open(sealedBlob, other, new byte[64]));
    }

    [Fact]
    public void Truncated_blobs_are_rejected()
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(64);
        ChunkId id = cipher.ComputeId(plaintext);
        byte[] sealedBlob = new byte[BlobFormat.SealedLength(64)];
        cipher.Seal(plaintext, sealedBlob);
        for (int length = 0; length < sealedBlob.Length; length++)
        {
            Assert.Throws<IntegrityException>(() => cipher.Open(sealedBlob.AsSpan(0, length), id, new byte[64]));
        }
    }

    [Fact]
    public void Sealing_twice_gives_different_bytes_but_the_same_id()
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(1000);
        byte[] a = new byte[BlobFormat.SealedLength(1000)];
        byte[] b = new byte[BlobFormat.SealedLength(1000)];
        cipher.Seal(plaintext, a);
        cipher.Seal(plaintext, b);
        Assert.NotEqual(a, b); // fresh random IV each time
        Assert.Equal(cipher.ComputeId(plaintext), cipher.ComputeId((byte[])plaintext.Clone()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(57)]
    public void Every_flipped_bit_in_a_sealed_record_is_rejected(int bodyLength)
    {
        using var sealer = new RecordSealer(_keys);
        byte[] associated = [.. sealer.RecordKey("/photos/cat.jpg"), 0, 0, 0, 1];
        byte[] body = RandomNumberGenerator.GetBytes(bodyLength);
        byte[] sealedRecord = sealer.Seal(associated, body);
        Assert.Equal(body, sealer.Open(associated, sealedRecord));

        for (int bit = 0; bit < sealedRecord.Length * 8; bit++)
        {
            byte[] tampered = (byte[])sealedRecord.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<IntegrityException>(() => sealer.Open(associated, tampered));
        }
    }

    [Fact]
    public void A_record_moved_to_another_path_or_version_is_rejected()
    {
        using var sealer = new RecordSealer(_keys);
        byte[] body = RandomNumberGenerator.GetBytes(40);
        byte[] sealedRecord = sealer.Seal([.. sealer.RecordKey("/a"), 1], body);
        Assert.Throws<IntegrityException>(() => sealer.Open([.. sealer.RecordKey("/b"), 1], sealedRecord));
        Assert.Throws<IntegrityException>(() => sealer.Open([.. sealer.RecordKey("/a"), 2], sealedRecord));
        Assert.Throws<IntegrityException>(() => sealer.Open([.. sealer.RecordKey("/a")], sealedRecord));
    }

    [Fact]
    public void Records_do_not_open_under_another_volume()
    {
        using var sealer = new RecordSealer(_keys);
        using VolumeKeys otherKeys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        using var other = new RecordSealer(otherKeys);
        byte[] sealedRecord = sealer.Seal([], "hello"u8);
        Assert.Throws<IntegrityException>(() => other.Open([], sealedRecord));
        Assert.NotEqual(sealer.RecordKey("/x"), other.RecordKey("/x"));
    }

    public void Dispose() => _keys.Dispose();
}
