using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;

namespace NexNet.TestHost;

/// <summary>
/// Seals and durably puts random blobs one after another, printing each id only after its put returned,
/// until killed. The parent kills it at a random moment and checks the store.
/// </summary>
internal static class BlobPutter
{
    public static int Run(string dir)
    {
        using VolumeKeys keys = VolumeFixture.Keys(dir);
        using var cipher = new BlobCipher(keys);
        var store = new BlobStore(Path.Combine(dir, "blobs"));
        byte[] buffer = new byte[BlobFormat.SealedLength(1024 * 1024)];
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        for (int i = 0; i < 1_000_000; i++)
        {
            int length = RandomNumberGenerator.GetInt32(1, i % 7 == 0 ? 1024 * 1024 : 64 * 1024);
            Span<byte> plaintext = buffer.AsSpan(BlobFormat.HeaderSize, length);
            RandomNumberGenerator.Fill(plaintext);
            ChunkId id = cipher.ComputeId(plaintext);
            int sealedLength = cipher.SealInPlace(buffer, length, id);
            store.Put(id, buffer.AsSpan(0, sealedLength));
            Console.Out.WriteLine(id.ToString());
            Console.Out.Flush();
        }

        return 0;
    }
}
