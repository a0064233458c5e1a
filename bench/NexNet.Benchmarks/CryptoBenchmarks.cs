using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using NexNet.Crypto;

namespace NexNet.Benchmarks;

/// <summary>AES-256-CTR and chunk-id throughput on 1 MiB buffers, one core (compare with `openssl speed`).</summary>
[MemoryDiagnoser]
public class CryptoBenchmarks
{
    private const int Size = 1024 * 1024;
    private readonly byte[] _buffer = RandomNumberGenerator.GetBytes(Size);
    private readonly byte[] _iv = RandomNumberGenerator.GetBytes(16);
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private AesCtr _ctr = null!;
    private BlobCipher _cipher = null!;
    private VolumeKeys _keys = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ctr = new AesCtr(_key);
        _keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        _cipher = new BlobCipher(_keys);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ctr.Dispose();
        _cipher.Dispose();
        _keys.Dispose();
    }

    /// <summary>Encrypt 1 MiB in place (CTR: decrypt is the same operation, benchmarked apart for the record).</summary>
    [Benchmark]
    public void AesCtrEncrypt1MiB() => _ctr.Transform(_iv, 0, _buffer);

    /// <summary>Decrypt 1 MiB starting at an unaligned offset inside a chunk (the random-access path).</summary>
    [Benchmark]
    public void AesCtrDecrypt1MiBAtOffset() => _ctr.Transform(_iv, 4093, _buffer);

    [Benchmark]
    public ChunkId ChunkId1MiB() => _cipher.ComputeId(_buffer);
}
