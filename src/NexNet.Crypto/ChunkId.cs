using System.Diagnostics.CodeAnalysis;

namespace NexNet.Crypto;

/// <summary>
/// The name of a chunk: a keyed hash of its plaintext under the volume's chunk-id key (keyed BLAKE3 for
/// blobs written now, HMAC-SHA256 for blob format 1; see <see cref="BlobFormat"/>). Equal chunks in a
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

    private readonly Hash256 _value;

    private ChunkId(Hash256 value) => _value = value;

    /// <summary>
    /// All zero bits: a hole in a sparse file, read as zeros and never stored, sent or fetched. A keyed
    /// hash's output is all zeros with probability 2^-256, so no real chunk has this id.
    /// </summary>
    public static ChunkId Hole => default;

    public bool IsHole => _value == default;

    public static ChunkId FromBytes(ReadOnlySpan<byte> bytes) => new(Hash256.FromBytes(bytes, "a chunk id"));

    public void WriteTo(Span<byte> destination) => _value.WriteTo(destination);

    /// <summary>Equality in time that does not depend on where the ids differ: for checking a computed id against an expected one.</summary>
    internal bool FixedTimeEquals(ChunkId other)
    {
        Span<byte> mine = stackalloc byte[Size];
        Span<byte> theirs = stackalloc byte[Size];
        WriteTo(mine);
        other.WriteTo(theirs);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(mine, theirs);
    }

    public byte[] ToBytes() => _value.ToBytes();

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

    public bool Equals(ChunkId other) => _value.Equals(other._value);

    public override bool Equals(object? obj) => obj is ChunkId other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();

    public int CompareTo(ChunkId other) => _value.CompareTo(other._value);

    public static bool operator ==(ChunkId left, ChunkId right) => left.Equals(right);

    public static bool operator !=(ChunkId left, ChunkId right) => !left.Equals(right);

    public static bool operator <(ChunkId left, ChunkId right) => left.CompareTo(right) < 0;

    public static bool operator >(ChunkId left, ChunkId right) => left.CompareTo(right) > 0;

    public static bool operator <=(ChunkId left, ChunkId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ChunkId left, ChunkId right) => left.CompareTo(right) >= 0;

    private static string Truncate(string? s) => s is null ? "" : s.Length <= 80 ? s : s[..80] + "…";
}
