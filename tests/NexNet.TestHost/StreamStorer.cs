using System.Diagnostics;
using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.TestHost;

/// <summary>
/// Stores a generated stream of the given size through <see cref="ChunkStore"/> and prints the process's
/// peak resident set (VmHWM from /proc/self/status) afterwards: the kernel's own high-water mark, so it
/// counts every allocation, managed or native, for the whole run.
/// </summary>
internal static class StreamStorer
{
    public static async Task<int> RunAsync(string dir, long bytes)
    {
        using VolumeKeys keys = VolumeFixture.Keys(dir);
        using var cipher = new BlobCipher(keys);
        using MetaDatabase db = MetaDatabase.Open(Path.Combine(dir, "meta.db"));
        var store = new ChunkStore(new BlobStore(Path.Combine(dir, "blobs")), cipher, BlobIndex.Open(db));
        var clock = Stopwatch.StartNew();
        await using var source = new PseudoRandomStream(bytes);
        ChunkList list = await store.WriteAsync(source);
        Console.Out.WriteLine($"chunks={list.Chunks.Length} length={list.Length} seconds={clock.Elapsed.TotalSeconds:F2}");
        Console.Out.WriteLine($"peak_rss_kib={ProcessMemory.PeakRssKib()}");
        return 0;
    }


    /// <summary>Incompressible, never-repeating bytes at several GiB/s: AES-CTR keystream under a random key.</summary>
    private sealed class PseudoRandomStream(long length) : ReadOnlyStream
    {
        private readonly AesCtr _ctr = new(RandomNumberGenerator.GetBytes(32));
        private readonly byte[] _iv = RandomNumberGenerator.GetBytes(16);
        private long _position;

        public override long Length => length;

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            Span<byte> target = buffer[..n];
            target.Clear();
            _ctr.Transform(_iv, _position, target);
            _position += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _ctr.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
