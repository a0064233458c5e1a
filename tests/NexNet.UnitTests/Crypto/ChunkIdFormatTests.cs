using System.Security.Cryptography;
using System.Text;
using NexNet.Crypto;

namespace NexNet.UnitTests.Crypto;

/// <summary>
/// Chunk ids by blob format: version 2 (written now) is keyed BLAKE3, held to the official test vectors;
/// version 1 (HMAC-SHA256, RFC 4231 in <see cref="KeyDerivationKnownAnswerTests"/>) blobs written by
/// older builds still open and verify, and no blob opens under the other version's id.
/// </summary>
public sealed class ChunkIdFormatTests : IDisposable
{
    // BLAKE3's test_vectors.json: input byte i is i % 251; the key is this 32-byte ASCII string; the
    // default output is the first 32 bytes of each keyed_hash.
    private static readonly byte[] s_vectorKey = Encoding.ASCII.GetBytes("whats the Elvish word for friend");

    private readonly VolumeKeys _keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));

    [Theory]
    [InlineData(0, "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26")]
    [InlineData(1, "6d7878dfff2f485635d39013278ae14f1454b8c0a3a2d34bc1ab38228a80c95b")]
    [InlineData(1023, "c951ecdf03288d0fcc96ee3413563d8a6d3589547f2c2fb36d9786470f1b9d6e")]
    [InlineData(1024, "75c46f6f3d9eb4f55ecaaee480db732e6c2105546f1e675003687c31719c7ba4")]
    [InlineData(1025, "357dc55de0c7e382c900fd6e320acc04146be01db6a8ce7210b7189bd664ea69")]
    [InlineData(2048, "879cf1fa2ea0e79126cb1063617a05b6ad9d0b696d0d757cf053439f60a99dd1")]
    [InlineData(2049, "9f29700902f7c86e514ddc4df1e3049f258b2472b6dd5267f61bf13983b78dd5")]
    [InlineData(4096, "befc660aea2f1718884cd8deb9902811d332f4fc4a38cf7c7300d597a081bfc0")]
    [InlineData(4097, "00df940cd36bb9fa7cbbc3556744e0dbc8191401afe70520ba292ee3ca80abbc")]
    [InlineData(8192, "dc9637c8845a770b4cbf76b8daec0eebf7dc2eac11498517f08d44c8fc00d58a")]
    [InlineData(8193, "954a2a75420c8d6547e3ba5b98d963e6fa6491addc8c023189cc519821b4a1f5")]
    [InlineData(16384, "9e9fc4eb7cf081ea7c47d1807790ed211bfec56aa25bb7037784c13c4b707b0d")]
    [InlineData(31744, "efa53b389ab67c593dba624d898d0f7353ab99e4ac9d42302ee64cbf9939a419")]
    [InlineData(102400, "1c35d1a5811083fd7119f5d5d1ba027b4d01c0c6c49fb6ff2cf75393ea5db4a7")]
    public void Version_2_ids_are_keyed_BLAKE3_as_its_test_vectors_say(int length, string expected)
    {
        byte[] input = new byte[length];
        for (int i = 0; i < length; i++)
        {
            input[i] = (byte)(i % 251);
        }

        Assert.Equal(expected, BlobCipher.ComputeId(2, s_vectorKey, input).ToString());
    }

    [Fact]
    public void New_blobs_are_version_2_and_named_by_keyed_BLAKE3()
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(5000);
        Assert.Equal(BlobCipher.ComputeId(2, _keys.ChunkIdKey, plaintext), cipher.ComputeId(plaintext));
        byte[] sealedBlob = new byte[BlobFormat.SealedLength(plaintext.Length)];
        cipher.Seal(plaintext, sealedBlob);
        Assert.Equal(2, sealedBlob[3]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData((1 << 20) + 17)] // longer than Verify's 256 KiB pieces, not a multiple of them
    public void Version_1_blobs_written_by_older_builds_still_open_and_verify(int length)
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(length);
        ChunkId v1 = BlobCipher.ComputeId(1, cipher.ChunkIdKey, plaintext);
        byte[] sealedBlob = SealAs(cipher, plaintext, v1, version: 1);

        byte[] opened = new byte[length];
        Assert.Equal(length, cipher.Open(sealedBlob, v1, opened));
        Assert.Equal(plaintext, opened);
        cipher.Verify(sealedBlob, v1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_blob_does_not_open_under_the_id_of_the_other_version(byte version)
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(300_000);
        ChunkId own = BlobCipher.ComputeId(version, cipher.ChunkIdKey, plaintext);
        ChunkId other = BlobCipher.ComputeId((byte)(3 - version), cipher.ChunkIdKey, plaintext);
        Assert.NotEqual(own, other);
        byte[] sealedBlob = SealAs(cipher, plaintext, own, version);
        cipher.Verify(sealedBlob, own);

        // Relabelled as the other version (a peer that rewrites the version byte): the id no longer matches.
        sealedBlob[3] = (byte)(3 - version);
        Assert.Throws<IntegrityException>(() => cipher.Verify(sealedBlob, own));
        Assert.Throws<IntegrityException>(() => cipher.Open(sealedBlob, own, new byte[plaintext.Length]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    public void Unknown_versions_are_refused(byte version)
    {
        using var cipher = new BlobCipher(_keys);
        byte[] plaintext = RandomNumberGenerator.GetBytes(100);
        ChunkId id = cipher.ComputeId(plaintext);
        byte[] sealedBlob = new byte[BlobFormat.SealedLength(plaintext.Length)];
        cipher.Seal(plaintext, sealedBlob);
        sealedBlob[3] = version;
        IntegrityException e = Assert.Throws<IntegrityException>(() => cipher.Verify(sealedBlob, id));
        Assert.Contains("version", e.Message, StringComparison.Ordinal);
        Assert.Throws<IntegrityException>(() => BlobFormat.CheckStructure(sealedBlob));
    }

    private static byte[] SealAs(BlobCipher cipher, byte[] plaintext, ChunkId id, byte version)
    {
        byte[] sealedBlob = new byte[BlobFormat.SealedLength(plaintext.Length)];
        plaintext.CopyTo(sealedBlob, BlobFormat.HeaderSize);
        cipher.SealInPlace(sealedBlob, plaintext.Length, id, version);
        return sealedBlob;
    }

    public void Dispose() => _keys.Dispose();
}
