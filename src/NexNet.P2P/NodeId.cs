using System.Security.Cryptography;
using NexNet.Crypto;

namespace NexNet.P2P;

/// <summary>
/// A node's name: SHA-256 of its public key (the SubjectPublicKeyInfo of its TLS certificate), shown as
/// 52 lowercase base32 characters. Derived from the key a peer proves it holds in TLS, never taken on
/// its word, so it cannot be claimed by another node.
/// </summary>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    public const int Size = 32;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    private readonly Hash256 _value;

    private NodeId(Hash256 value) => _value = value;

    public static NodeId FromBytes(ReadOnlySpan<byte> bytes) => new(Hash256.FromBytes(bytes, "a node id"));

    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, out NodeId id)
    {
        id = bytes.Length == Size ? FromBytes(bytes) : default;
        return bytes.Length == Size;
    }

    /// <summary>The id of a public key given as SubjectPublicKeyInfo DER.</summary>
    public static NodeId FromPublicKey(ReadOnlySpan<byte> subjectPublicKeyInfo) => FromBytes(SHA256.HashData(subjectPublicKeyInfo));

    public void WriteTo(Span<byte> destination) => _value.WriteTo(destination);

    public byte[] ToBytes() => _value.ToBytes();

    /// <summary>RFC 4648 base32, lowercase, no padding: 52 characters.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        Span<char> text = stackalloc char[((Size * 8) + 4) / 5];
        int bits = 0, value = 0, n = 0;
        foreach (byte b in bytes)
        {
            value = (value << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text[n++] = Alphabet[(value >> (bits - 5)) & 31];
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text[n++] = Alphabet[(value << (5 - bits)) & 31];
        }

        return new string(text[..n]);
    }

    /// <summary>Parses the 52-character base32 form that <see cref="ToString"/> prints.</summary>
    public static bool TryParse(string? text, out NodeId id)
    {
        id = default;
        if (text is null || text.Length != 52)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size + 1];
        int bits = 0, value = 0, n = 0;
        foreach (char ch in text)
        {
            int digit = Alphabet.IndexOf(ch, StringComparison.Ordinal);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 5) | digit;
            bits += 5;
            if (bits >= 8)
            {
                bytes[n++] = (byte)(value >> (bits - 8));
                bits -= 8;
                value &= (1 << bits) - 1;
            }
        }

        if (n != Size || value != 0)
        {
            return false; // wrong length, or non-zero padding bits: not a canonical id
        }

        id = FromBytes(bytes[..Size]);
        return true;
    }

    public static NodeId Parse(string text) =>
        TryParse(text, out NodeId id) ? id : throw new FormatException($"not a node id (52 base32 characters): '{text}'");

    /// <summary>The first 8 characters, for log lines.</summary>
    public string Abbreviated => ToString()[..8];

    public bool Equals(NodeId other) => _value.Equals(other._value);

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();

    public int CompareTo(NodeId other) => _value.CompareTo(other._value);

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    public static bool operator <(NodeId left, NodeId right) => left.CompareTo(right) < 0;

    public static bool operator >(NodeId left, NodeId right) => left.CompareTo(right) > 0;

    public static bool operator <=(NodeId left, NodeId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(NodeId left, NodeId right) => left.CompareTo(right) >= 0;
}
