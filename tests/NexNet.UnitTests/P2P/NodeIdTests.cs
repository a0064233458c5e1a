using System.Security.Cryptography;
using NexNet.P2P;

namespace NexNet.UnitTests.P2P;

public class NodeIdTests
{
    [Fact]
    public void Base32_round_trips_and_is_52_lowercase_characters()
    {
        for (int i = 0; i < 200; i++)
        {
            NodeId id = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
            string text = id.ToString();
            Assert.Equal(52, text.Length);
            Assert.Matches("^[a-z2-7]{52}$", text);
            Assert.Equal(id, NodeId.Parse(text));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRST")] // upper case
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1")] // '1' is not base32
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")] // non-zero padding bits
    public void Anything_else_is_refused(string text) => Assert.False(NodeId.TryParse(text, out _));
}
