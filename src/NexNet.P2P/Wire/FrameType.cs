namespace NexNet.P2P.Wire;

/// <summary>What a frame carries. Message frames hold an <see cref="Envelope"/>; the others move stream bytes and their flow control.</summary>
internal enum FrameType : byte
{
    /// <summary>An <see cref="Envelope"/> (channel 0).</summary>
    Message = 1,

    /// <summary>Bytes of a stream (channel = stream id, at least one byte).</summary>
    Data = 2,

    /// <summary>The sender has finished writing this stream (no payload).</summary>
    End = 3,

    /// <summary>The stream is abandoned in both directions (payload: UTF-8 reason).</summary>
    Reset = 4,

    /// <summary>The receiver has consumed bytes and the sender may send that many more (payload: u32 big-endian).</summary>
    Credit = 5,
}
