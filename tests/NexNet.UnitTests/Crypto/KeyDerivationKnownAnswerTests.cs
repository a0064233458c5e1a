using NexNet.Crypto;
using NexNet.Crypto.Internal;
using NexNet.UnitTests.Support;

namespace NexNet.UnitTests.Crypto;

/// <summary>RFC 5869 appendix A (HKDF-SHA256) and RFC 4231 section 4 (HMAC-SHA256), through our own entry points.</summary>
public class KeyDerivationKnownAnswerTests
{
    [Theory]
    // A.1: basic test case
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")]
    // A.2: longer inputs and outputs
    [InlineData(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
        82,
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87")]
    // A.3: zero-length salt and info
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")]
    public void Hkdf_matches_RFC_5869(string ikm, string salt, string info, int length, string prk, string okm)
    {
        byte[] actualPrk = Hkdf.Extract(Hex.Bytes(ikm), Hex.Bytes(salt));
        Assert.Equal(prk, Hex.Of(actualPrk));
        Assert.Equal(okm, Hex.Of(Hkdf.Expand(actualPrk, Hex.Bytes(info), length)));
    }

    [Theory]
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", // test case 1
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    [InlineData("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", // test case 2
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // test case 3
        "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")]
    [InlineData("0102030405060708090a0b0c0d0e0f10111213141516171819", // test case 4
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")]
    public void Chunk_id_HMAC_matches_RFC_4231(string key, string data, string mac) =>
        Assert.Equal(mac, BlobCipher.ComputeId(1, Hex.Bytes(key), Hex.Bytes(data)).ToString());

    [Fact]
    public void Chunk_id_HMAC_matches_RFC_4231_test_case_5_truncated() =>
        Assert.StartsWith("a3b6167473100ee06e0c796c2955552b",
            BlobCipher.ComputeId(1, Hex.Bytes("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"), "Test With Truncation"u8).ToString(), StringComparison.Ordinal);

    [Fact]
    public void Chunk_id_HMAC_matches_RFC_4231_test_cases_6_and_7_long_key()
    {
        byte[] key = Enumerable.Repeat((byte)0xaa, 131).ToArray();
        Assert.Equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            BlobCipher.ComputeId(1, key, "Test Using Larger Than Block-Size Key - Hash Key First"u8).ToString());
        Assert.Equal("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            BlobCipher.ComputeId(1, key, "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."u8).ToString());
    }

    [Fact]
    public void Volume_subkeys_are_distinct_and_deterministic()
    {
        byte[] secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        using VolumeKeys a = VolumeKeys.Derive(secret);
        using VolumeKeys b = VolumeKeys.Derive(secret);
        byte[][] keys = [a.ContentKey, a.ChunkIdKey, a.RecordEncryptionKey, a.RecordMacKey, a.PathKey, a.BlobTagKey];
        Assert.Equal(keys.Length, keys.Select(k => Hex.Of(k)).Distinct().Count());
        Assert.All(keys, k => Assert.Equal(32, k.Length));
        Assert.Equal(Hex.Of(a.ContentKey), Hex.Of(b.ContentKey));
        Assert.Equal(Hex.Of(a.PathKey), Hex.Of(b.PathKey));
    }

    [Fact]
    public void A_short_volume_secret_is_refused() =>
        Assert.Throws<ArgumentException>(() => VolumeKeys.Derive(new byte[31]));
}
