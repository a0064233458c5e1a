using System.Diagnostics;
using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;

namespace NexNet.Benchmarks;

/// <summary>
/// Stores a file as 1 MiB chunks (chunk id, seal, write, durable) into a fresh store and prints the rate:
/// <c>store SOURCE DIR</c>. bench/foundation.sh runs it interleaved with <c>dd bs=1M conv=fsync</c> of the
/// same source to the same disk, so both see the same page cache and the same noise.
/// NEXNET_WORKERS=N overrides the number of seal workers (default: twice the cores); it is how the
/// default was chosen (bench/RESULTS.md).
/// </summary>
public static class StoreThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: store SOURCE-FILE STORE-DIR");
            return 2;
        }

        string source = args[0];
        string dir = args[1];
        using VolumeKeys keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        using var cipher = new BlobCipher(keys);
        int workers = int.TryParse(Environment.GetEnvironmentVariable("NEXNET_WORKERS"), out int w) ? w : 0;
        var store = new ChunkStore(new BlobStore(Path.Combine(dir, "blobs")), cipher, workers: workers);
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        var clock = Stopwatch.StartNew();
        ChunkList list = await store.WriteAsync(input);
        double seconds = clock.Elapsed.TotalSeconds;
        double mib = list.Length / (1024.0 * 1024.0);
        Console.WriteLine($"stored {mib:F0} MiB in {list.Chunks.Length} chunks: {seconds:F3} s, {mib / seconds:F0} MiB/s");
        return 0;
    }
}
