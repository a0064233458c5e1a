using System.Buffers.Binary;

namespace NexNet.Node.Internal;

/// <summary>Numbers as the signed parts of records and notices carry them: big-endian, fixed width.</summary>
internal static class BigEndian
{
    public static byte[] Int64(long value)
    {
        byte[] bytes = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
