using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using NexNet.Crypto.Internal;

namespace NexNet.Crypto;

/// <summary>
/// AES-256 in counter mode on the platform's hardware AES. The 16-byte IV is the initial 128-bit
/// big-endian counter, so any byte offset can be decrypted without touching what comes before it.
/// </summary>
/// <remarks>
/// Where the system's OpenSSL 3 is present (it is wherever .NET runs TLS on Linux) the work is its CTR
/// mode, one pass over the data (<see cref="OpenSslCtr"/>). Elsewhere keystream is made 64 KiB at a time
/// by one persistent ECB transform over a buffer of counter blocks, then XORed with vectors: about two
/// thirds of OpenSSL's own CTR on this machine, where a one-shot ECB call per block of data pays several
/// microseconds of setup each time. An instance owns its buffers and is not thread-safe; use one per thread.
/// </remarks>
public sealed class AesCtr : IDisposable
{
    public const int KeySize = 32;
    public const int IvSize = 16;
    public const int BlockSize = 16;

    /// <summary>Keystream made per transform call: large enough to amortise the call, small enough for L2.</summary>
    private const int KeystreamBytes = 64 * 1024;

    private readonly OpenSslCtr? _native;
    private readonly Aes? _aes;
    private readonly ICryptoTransform? _ecb;
    private readonly byte[] _counters = [];
    private readonly byte[] _keystream = [];
    private bool _disposed;

    public AesCtr(ReadOnlySpan<byte> key)
        : this(key, useOpenSsl: true)
    {
    }

    /// <summary>With <paramref name="useOpenSsl"/> false, always the portable ECB-and-XOR path (the tests hold both to the same results).</summary>
    internal AesCtr(ReadOnlySpan<byte> key, bool useOpenSsl)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"AES-256 needs a {KeySize}-byte key, got {key.Length} bytes", nameof(key));
        }

        if (useOpenSsl && OpenSslCtr.TryCreate(key) is { } native)
        {
            _native = native;
            return;
        }

        _counters = GC.AllocateUninitializedArray<byte>(KeystreamBytes);
        _keystream = GC.AllocateUninitializedArray<byte>(KeystreamBytes);
        _aes = Aes.Create();
        byte[] keyCopy = key.ToArray();
        _aes.Key = keyCopy;
        CryptographicOperations.ZeroMemory(keyCopy);
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _ecb = _aes.CreateEncryptor();
    }

    /// <summary>True when this instance runs on OpenSSL's CTR mode rather than the portable path.</summary>
    internal bool UsesOpenSsl => _native is not null;

    /// <summary>XORs the keystream at <paramref name="offset"/> of the stream started by <paramref name="iv"/> into <paramref name="data"/>, in place.</summary>
    public void Transform(ReadOnlySpan<byte> iv, long offset, Span<byte> data) => Transform(iv, offset, data, data);

    /// <summary>
    /// destination = source XOR keystream, where the keystream starts at byte <paramref name="offset"/> of
    /// the CTR stream whose first counter block is <paramref name="iv"/>. Encryption and decryption are the
    /// same operation. <paramref name="destination"/> may be <paramref name="source"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Transform(ReadOnlySpan<byte> iv, long offset, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (iv.Length != IvSize)
        {
            throw new ArgumentException($"the IV must be {IvSize} bytes, got {iv.Length}", nameof(iv));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("destination is shorter than source", nameof(destination));
        }

        if (source.Overlaps(destination, out int shift) && shift != 0)
        {
            throw new ArgumentException("destination overlaps source without being the same memory", nameof(destination));
        }

        // Counter arithmetic is modulo 2^128, as CTR with a full-width counter defines it.
        UInt128 counter = BinaryPrimitives.ReadUInt128BigEndian(iv) + (UInt128)(ulong)(offset / BlockSize);
        int skip = (int)(offset % BlockSize);
        if (_native is not null)
        {
            Span<byte> start = stackalloc byte[IvSize];
            BinaryPrimitives.WriteUInt128BigEndian(start, counter);
            _native.Transform(start, skip, source, destination);
            return;
        }

        while (!source.IsEmpty)
        {
            int needed = Math.Min(KeystreamBytes, RoundUpToBlock(skip + source.Length));
            FillCounters(counter, _counters.AsSpan(0, needed));
            _ecb!.TransformBlock(_counters, 0, needed, _keystream, 0);
            counter += (UInt128)(ulong)(needed / BlockSize);

            int n = Math.Min(needed - skip, source.Length);
            VectorXor.Apply(source[..n], _keystream.AsSpan(skip, n), destination);
            source = source[n..];
            destination = destination[n..];
            skip = 0;
        }
    }

    private static int RoundUpToBlock(int n) => (n + BlockSize - 1) & ~(BlockSize - 1);

    /// <summary>Writes consecutive big-endian 128-bit counters starting at <paramref name="start"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillCounters(UInt128 start, Span<byte> blocks)
    {
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(blocks);
        ulong high = (ulong)(start >> 64);
        ulong low = (ulong)start;
        int count = words.Length / 2;
        bool little = BitConverter.IsLittleEndian;
        ulong highWord = little ? BinaryPrimitives.ReverseEndianness(high) : high;
        for (int i = 0; i < count; i++)
        {
            words[2 * i] = highWord;
            words[(2 * i) + 1] = little ? BinaryPrimitives.ReverseEndianness(low) : low;
            low++;
            if (low == 0)
            {
                // Carry into the high half (rare: only when the low 64 bits wrap inside this run).
                high++;
                highWord = little ? BinaryPrimitives.ReverseEndianness(high) : high;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _native?.Dispose();
        _ecb?.Dispose();
        _aes?.Dispose();
        CryptographicOperations.ZeroMemory(_keystream);
    }
}
