using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;

namespace NexNet.TestHost;

/// <summary>
/// Writes random multi-chunk streams through <see cref="ChunkStore"/> one after another (64 KiB chunks,
/// 32 to 48 per stream, so every commit takes the whole-file-system sync path), printing a stream's
/// chunk ids only after its write returned, until killed.
/// </summary>
internal static class BatchedStreamWriter
{
    public const int ChunkSize = 64 * 1024;

    public static async Task<int> RunAsync(string dir)
    {
        using VolumeKeys keys = VolumeFixture.Keys(dir);
        using var cipher = new BlobCipher(keys);
        var store = new ChunkStore(new BlobStore(Path.Combine(dir, "blobs")), cipher, chunkSize: ChunkSize);
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        for (int i = 0; i < 100_000; i++)
        {
            int chunks = RandomNumberGenerator.GetInt32(BlobWriteBatch.SyncFileSystemThreshold, BlobWriteBatch.SyncFileSystemThreshold + 16);
            byte[] data = RandomNumberGenerator.GetBytes((chunks * ChunkSize) - RandomNumberGenerator.GetInt32(0, ChunkSize));
            ChunkList list = await store.WriteAsync(new MemoryStream(data));
            Console.Out.WriteLine(string.Join(' ', list.Chunks));
            Console.Out.Flush();
        }

        return 0;
    }
}
