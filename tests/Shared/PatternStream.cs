using NexNet.Storage;

namespace NexNet.Tests.Shared;

/// <summary>
/// A read-only, seekable stream of <c>length</c> pseudo-random bytes fixed by a seed (SplitMix64 of the
/// position), so a test can store a GiB and check it back without holding or saving it anywhere.
/// Different seeds and positions give different chunks, so nothing deduplicates by accident.
/// </summary>
internal sealed class PatternStream(long length, ulong seed) : RandomAccessReadStream
{
    public override long Length => length;

    protected override int ReadAt(long position, Span<byte> buffer)
    {
        Fill(seed, position, buffer);
        return buffer.Length;
    }

    /// <summary>The pattern's bytes from <paramref name="position"/> on, as many as <paramref name="destination"/> holds.</summary>
    public static void Fill(ulong seed, long position, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length;)
        {
            long at = position + i;
            ulong word = Mix(seed ^ (ulong)(at >> 3) * 0x9E3779B97F4A7C15UL);
            int skip = (int)(at & 7);
            int n = Math.Min(8 - skip, destination.Length - i);
            for (int k = 0; k < n; k++)
            {
                destination[i + k] = (byte)(word >> (8 * (skip + k)));
            }

            i += n;
        }
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Reads <paramref name="source"/> to its end and returns the first offset that differs from the pattern, or -1 when it matches exactly.</summary>
    public static async Task<long> FirstDifferenceAsync(Stream source, long length, ulong seed, CancellationToken cancellationToken = default)
    {
        byte[] got = new byte[1 << 20];
        byte[] want = new byte[1 << 20];
        long position = 0;
        while (true)
        {
            int n = await source.ReadAtLeastAsync(got, got.Length, throwOnEndOfStream: false, cancellationToken);
            if (n == 0)
            {
                return position == length ? -1 : position;
            }

            Fill(seed, position, want.AsSpan(0, n));
            int diff = got.AsSpan(0, n).CommonPrefixLength(want.AsSpan(0, n));
            if (diff < n || position + n > length)
            {
                return position + Math.Min(diff, (int)(length - position));
            }

            position += n;
        }
    }
}
