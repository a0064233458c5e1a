namespace NexNet.Node;

/// <summary>The node's request and message types on the wire (the network layer's own end below 100).</summary>
internal static class NodeMessageType
{
    /// <summary>Request: <c>RecordsAfter</c> → <c>RecordBatch</c>.</summary>
    public const uint RecordsAfter = 120;

    /// <summary>One-way: <c>RecordBatch</c> of records that just changed.</summary>
    public const uint RecordPush = 121;

    /// <summary>Request: <c>ChunkIds</c> → <c>Presence</c>.</summary>
    public const uint HasChunks = 122;

    /// <summary>Request with a streamed body of blobs (BlobTransfer frames); answered once they are durable.</summary>
    public const uint PutChunks = 123;

    /// <summary>Request: <c>ChunkIds</c> (one id) → the blob as a streamed body, or an error when absent.</summary>
    public const uint GetChunk = 124;

    /// <summary>One-way: a signed <c>CollectNotice</c> of chunks a member has collected as garbage (storage peers delete them too).</summary>
    public const uint CollectChunks = 125;

    /// <summary>Request: <c>ProofRequest</c> → <c>ProofReply</c>, a proof of possession per chunk (<see cref="PossessionProof"/>).</summary>
    public const uint ProveChunks = 126;

    /// <summary>Request: a signed <c>ReplaceNotice</c> with a streamed body of the blobs that take the place of bad copies.</summary>
    public const uint ReplaceChunks = 127;
}
