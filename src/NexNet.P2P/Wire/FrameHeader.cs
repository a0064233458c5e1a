namespace NexNet.P2P.Wire;

/// <summary>A validated frame header. <see cref="Unknown"/> frames (types this build does not know) are skipped by their length.</summary>
internal readonly record struct FrameHeader(FrameType Type, uint Channel, int PayloadLength, bool Unknown);
