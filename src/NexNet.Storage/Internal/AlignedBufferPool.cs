using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NexNet.Storage.Internal;

/// <summary>
/// Pinned buffers whose first byte is aligned for direct I/O. The pool keeps what was returned, so it
/// holds at most as many buffers as were ever in use at once (the chunk writer's fixed pipeline depth).
/// </summary>
internal sealed class AlignedBufferPool(int bufferSize)
{
    private readonly ConcurrentBag<AlignedBuffer> _free = [];

    public int BufferSize { get; } = DirectIo.Padded(bufferSize);

    public AlignedBuffer Rent() => _free.TryTake(out AlignedBuffer? buffer) ? buffer : new AlignedBuffer(BufferSize);

    public void Return(AlignedBuffer buffer) => _free.Add(buffer);
}

/// <summary>One pinned, aligned buffer; <see cref="Array"/> from <see cref="Offset"/> for <see cref="Length"/> bytes.</summary>
internal sealed class AlignedBuffer
{
    public AlignedBuffer(int length)
    {
        Array = GC.AllocateUninitializedArray<byte>(length + DirectIo.Alignment, pinned: true);
        nint address;
        unsafe
        {
            address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Array));
        }

        Offset = (int)((DirectIo.Alignment - (address % DirectIo.Alignment)) % DirectIo.Alignment);
        Length = length;
    }

    public byte[] Array { get; }

    public int Offset { get; }

    public int Length { get; }

    public Span<byte> Span => Array.AsSpan(Offset, Length);

    public Memory<byte> Memory => Array.AsMemory(Offset, Length);
}
