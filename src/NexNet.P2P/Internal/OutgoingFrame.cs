using NexNet.P2P.Wire;

namespace NexNet.P2P.Internal;

/// <summary>A frame waiting for the writer loop. <see cref="Copied"/>, if set, completes once the payload is copied out, so the producer may reuse its buffer.</summary>
internal readonly record struct OutgoingFrame(FrameType Type, uint Channel, ReadOnlyMemory<byte> Payload, TaskCompletionSource? Copied);
