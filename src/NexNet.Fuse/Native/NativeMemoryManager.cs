using System.Buffers;

namespace NexNet.Fuse.Native;

/// <summary>
/// libfuse's request buffer as <see cref="Memory{T}"/>, so a read can decrypt (or fetch) straight into
/// it through async APIs. Valid only during the callback that received the buffer.
/// </summary>
internal sealed unsafe class NativeMemoryManager(byte* pointer, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
