using System.Buffers.Binary;

namespace NexNet.Crypto;

/// <summary>
/// A 256-bit value held as four words, so it compares and hashes without allocation: the storage of
/// every 32-byte name in NexNet (chunk ids, node ids). Byte order is big-endian, so ordering by value
/// is ordering by bytes.
/// </summary>
public readonly struct Hash256 : IEquatable<Hash256>, IComparable<Hash256>
{
    public const int Size = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private Hash256(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    public static Hash256 FromBytes(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"{what} is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        return new Hash256(
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

    public bool Equals(Hash256 other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is Hash256 other && Equals(other);

    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    public int CompareTo(Hash256 other)
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

    public static bool operator ==(Hash256 left, Hash256 right) => left.Equals(right);

    public static bool operator !=(Hash256 left, Hash256 right) => !left.Equals(right);

    public static bool operator <(Hash256 left, Hash256 right) => left.CompareTo(right) < 0;

    public static bool operator >(Hash256 left, Hash256 right) => left.CompareTo(right) > 0;

    public static bool operator <=(Hash256 left, Hash256 right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Hash256 left, Hash256 right) => left.CompareTo(right) >= 0;
}
