using NexNet.Crypto;

namespace NexNet.UnitTests.Crypto;

public class ChunkIdTests
{
    private const string Valid = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    [Fact]
    public void Hex_round_trips() => Assert.Equal(Valid, ChunkId.Parse(Valid).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff")] // upper case
    [InlineData("00112233445566778899aabbccddeeff00112233445566778899aabbccddeef")] // 63 digits
    [InlineData("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0")] // 65 digits
    [InlineData("../../../../etc/passwd00112233445566778899aabbccddeeff0011223344")]
    [InlineData("00112233445566778899aabbccddeeff00112233445566778899aabbccddee/f")]
    [InlineData("0011223344556677 8899aabbccddeeff00112233445566778899aabbccddeef")]
    [InlineData("g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")]
    public void Anything_but_64_lowercase_hex_digits_is_refused(string text)
    {
        Assert.False(ChunkId.TryParse(text, out _));
        Assert.Throws<FormatException>(() => ChunkId.Parse(text));
    }

    [Fact]
    public void Null_is_refused() => Assert.False(ChunkId.TryParse((string?)null, out _));

    [Fact]
    public void Equality_ordering_and_bytes_agree()
    {
        ChunkId a = ChunkId.Parse(Valid);
        ChunkId b = ChunkId.FromBytes(a.ToBytes());
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        ChunkId c = ChunkId.Parse(Valid[..^1] + "0");
        Assert.True(c < a);
        Assert.Equal(("00", "11"), a.FanOut());
    }
}
