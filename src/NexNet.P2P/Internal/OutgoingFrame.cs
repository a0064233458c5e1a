using NexNet.P2P.Wire;

namespace NexNet.P2P.Internal;

/// <summary>A control or message frame waiting for the writer loop (stream data is written directly by its stream).</summary>
internal readonly record struct OutgoingFrame(FrameType Type, uint Channel, ReadOnlyMemory<byte> Payload);
