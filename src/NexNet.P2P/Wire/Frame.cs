using System.Buffers;

namespace NexNet.P2P.Wire;

/// <summary>One decoded frame. <see cref="Payload"/> is a view into the read buffer, valid until the reader advances.</summary>
internal readonly record struct Frame(FrameType Type, uint Channel, ReadOnlySequence<byte> Payload);
