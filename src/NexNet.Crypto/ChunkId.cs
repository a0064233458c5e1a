using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace NexNet.Crypto;

/// <summary>
/// The name of a chunk: HMAC-SHA256 of its plaintext under the volume's chunk-id key. Equal chunks in a
/// volume get equal ids (deduplication) while a peer without the key learns nothing from an id.
/// </summary>
/// <remarks>
/// Held as four words so ids compare and hash without allocation. The only text form is 64 lowercase
/// hex digits; <c>TryParse</c> accepts nothing else, which is what keeps ids safe to use in paths.
/// </remarks>
public readonly struct ChunkId : IEquatable<ChunkId>, IComparable<ChunkId>
{
    public const int Size = 32;
    public const int HexLength = Size * 2;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private ChunkId(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    public static ChunkId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a chunk id is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        return new ChunkId(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToBytes()
    {
        byte[] bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Parses exactly 64 lowercase hex digits; anything else (upper case, separators, other lengths) fails.</summary>
    public static bool TryParse([NotNullWhen(true)] string? hex, out ChunkId id) => TryParse(hex.AsSpan(), out id);

    public static bool TryParse(ReadOnlySpan<char> hex, out ChunkId id)
    {
        id = default;
        if (hex.Length != HexLength)
        {
            return false;
        }

        foreach (char ch in hex)
        {
            if (!char.IsAsciiDigit(ch) && ch is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        Span<byte> bytes = stackalloc byte[Size];
        Convert.FromHexString(hex, bytes, out _, out _);
        id = FromBytes(bytes);
        return true;
    }

    public static ChunkId Parse(string hex) =>
        TryParse(hex, out ChunkId id) ? id : throw new FormatException($"not a chunk id (64 lowercase hex digits): '{Truncate(hex)}'");

    /// <summary>The first two bytes as hex: the two fan-out folder names of the blob path.</summary>
    public (string First, string Second) FanOut()
    {
        string hex = ToString();
        return (hex[..2], hex[2..4]);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public bool Equals(ChunkId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is ChunkId other && Equals(other);

    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    public int CompareTo(ChunkId other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0)
        {
            return c;
        }

        c = _b.CompareTo(other._b);
        if (c != 0)
        {
            return c;
        }

        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    public static bool operator ==(ChunkId left, ChunkId right) => left.Equals(right);

    public static bool operator !=(ChunkId left, ChunkId right) => !left.Equals(right);

    public static bool operator <(ChunkId left, ChunkId right) => left.CompareTo(right) < 0;

    public static bool operator >(ChunkId left, ChunkId right) => left.CompareTo(right) > 0;

    public static bool operator <=(ChunkId left, ChunkId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ChunkId left, ChunkId right) => left.CompareTo(right) >= 0;

    private static string Truncate(string? s) => s is null ? "" : s.Length <= 80 ? s : s[..80] + "…";
}
