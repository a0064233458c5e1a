using System.Security.Cryptography;
using NexNet.Crypto;

namespace NexNet.Tests.Shared;

/// <summary>Ids no test has used before, for index and queue rows that need no blob behind them.</summary>
internal static class RandomIds
{
    public static ChunkId Chunk() => ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32));
}
