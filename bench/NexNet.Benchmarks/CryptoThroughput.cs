using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using NexNet.Crypto;

namespace NexNet.Benchmarks;

/// <summary>
/// Sustained single-thread throughput on 1 MiB buffers, measured the way <c>openssl speed</c> measures
/// (warm up, then as many operations as fit in a fixed time), so bench/foundation.sh can interleave the
/// two in one run: <c>crypto aes-ctr-encrypt|aes-ctr-decrypt|chunk-id SECONDS</c>. Prints bytes per second.
/// </summary>
public static class CryptoThroughput
{
    private const int Size = 1024 * 1024;

    public static int Run(string[] args)
    {
        if (args.Length != 2 || !double.TryParse(args[1], CultureInfo.InvariantCulture, out double seconds))
        {
            Console.Error.WriteLine("usage: crypto aes-ctr-encrypt|aes-ctr-decrypt|chunk-id SECONDS");
            return 2;
        }

        byte[] buffer = RandomNumberGenerator.GetBytes(Size);
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        using var ctr = new AesCtr(RandomNumberGenerator.GetBytes(32));
        using VolumeKeys keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        using var cipher = new BlobCipher(keys);
        Action operation = args[0] switch
        {
            "aes-ctr-encrypt" => () => ctr.Transform(iv, 0, buffer),
            // Decryption is the same keystream XOR; measured at an unaligned offset, as a range read does it.
            "aes-ctr-decrypt" => () => ctr.Transform(iv, 4093, buffer),
            "chunk-id" => () => cipher.ComputeId(buffer),
            _ => throw new ArgumentException($"unknown operation {args[0]}"),
        };

        Measure(operation, 0.5); // warm-up: tiered JIT reaches its final code
        double bytesPerSecond = Measure(operation, seconds);
        Console.WriteLine(bytesPerSecond.ToString("F0", CultureInfo.InvariantCulture));
        return 0;
    }

    private static double Measure(Action operation, double seconds)
    {
        long operations = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < 16; i++)
            {
                operation();
            }

            operations += 16;
        }

        return operations * (double)Size / clock.Elapsed.TotalSeconds;
    }
}
