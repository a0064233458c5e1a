using System.Buffers.Binary;
using System.Security.Cryptography;

namespace NexNet.Node;

/// <summary>
/// Which nodes own a chunk: rendezvous (highest-random-weight) hashing. Every node scores every member
/// with SHA-256(chunk id | node id) and the R highest win, so all nodes with the same member list agree
/// without talking, and a node joining or leaving moves only the chunks it wins or held.
/// </summary>
/// <remarks>
/// A DHT can replace this without touching the Volume API: callers ask only "who owns this chunk".
/// </remarks>
public static class Placement
{
    /// <summary>The owners of <paramref name="chunk"/> among <paramref name="members"/>, best first: min(R, members) of them.</summary>
    public static NodeId[] Owners(ChunkId chunk, IReadOnlyCollection<NodeId> members, int replicationFactor)
    {
        ArgumentNullException.ThrowIfNull(members);
        int count = Math.Min(replicationFactor, members.Count);
        var scored = new (ulong Score, NodeId Node)[members.Count];
        Span<byte> input = stackalloc byte[ChunkId.Size + NodeId.Size];
        Span<byte> hash = stackalloc byte[32];
        chunk.WriteTo(input);
        int i = 0;
        foreach (NodeId node in members)
        {
            node.WriteTo(input[ChunkId.Size..]);
            SHA256.HashData(input, hash);
            scored[i++] = (BinaryPrimitives.ReadUInt64BigEndian(hash), node);
        }

        Array.Sort(scored, static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Node.CompareTo(b.Node));
        var owners = new NodeId[count];
        for (int k = 0; k < count; k++)
        {
            owners[k] = scored[k].Node;
        }

        return owners;
    }
}
