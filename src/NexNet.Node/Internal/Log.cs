namespace NexNet.Node.Internal;

/// <summary>The node's log lines, one per event, never with key material.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer} sent {What}; ignored")]
    public static partial void RecordRejected(ILogger logger, string peer, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer} served chunk {Chunk} with bad bytes ({Reason}); asking another peer")]
    public static partial void BadChunk(ILogger logger, string peer, NexNet.Crypto.ChunkId chunk, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "fetch of chunk {Chunk} from {Peer} failed: {Reason}")]
    public static partial void FetchFailed(ILogger logger, NexNet.Crypto.ChunkId chunk, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "fetch of chunk {Chunk} from {Peer} failed: no answer within {Seconds:F0} s")]
    public static partial void FetchTimedOut(ILogger logger, NexNet.Crypto.ChunkId chunk, string peer, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "edit of {Path} lost to a concurrent edit; kept it as {Copy}")]
    public static partial void ConflictCopy(ILogger logger, string path, string copy);

    [LoggerMessage(Level = LogLevel.Information, Message = "sync from {Peer} failed: {Reason}")]
    public static partial void SyncFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "replication to {Peer} failed: {Reason}")]
    public static partial void ReplicationFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Peer} has been gone for {Seconds:F0} s: re-replicating its chunks")]
    public static partial void NodeGone(ILogger logger, string peer, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Peer} joined: re-checking chunk owners")]
    public static partial void NodeJoined(ILogger logger, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "collected {Count} unreferenced chunks ({Bytes} bytes)")]
    public static partial void Collected(ILogger logger, int count, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "space: {Free} bytes free, below the {Line}-byte line: deleted {GarbageBytes} bytes nothing referenced, gave up {Copies} cached copies ({CopyBytes} bytes) and the {Versions} oldest versions of history ({HistoryBytes} bytes of chunks only they used); history keeps {Kept} versions, snapshots untouched")]
    public static partial void SpacePressure(ILogger logger, long free, long line, long garbageBytes, int copies, long copyBytes, int versions, long historyBytes, long kept);

    [LoggerMessage(Level = LogLevel.Warning, Message = "space: gave up {Count} copies of history ({Bytes} bytes) that {Copies} other nodes proved they hold; every version stays, read back from them; {Free} bytes free")]
    public static partial void HistoryCopiesReleased(ILogger logger, int count, long bytes, int copies, long free);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused chunks from {Peer}: this node's disk is full ({Free} bytes free, {Reserve} kept for commits and records); it places them elsewhere")]
    public static partial void PushRefusedFull(ILogger logger, string peer, long free, long reserve);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Peer} has no space for chunks: placing chunks on other owners for {Seconds:F0} s ({Reason})")]
    public static partial void PeerFull(ILogger logger, string peer, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "deleted {Count} chunks members collected, now that the history retention has passed since their notice")]
    public static partial void DeferredCollected(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "history: pruned {Expired} versions past the {Days:0.###}-day retention and {Capped} past the {MaxBytes}-byte cap (0: none); snapshots keep theirs")]
    public static partial void HistoryPruned(ILogger logger, int expired, int capped, double days, long maxBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "cache: evicted {Count} chunks ({Bytes} bytes) held only as copies, least recently used first, to keep the store within {Limit} bytes; it holds {Stored} bytes now")]
    public static partial void Evicted(ILogger logger, int count, long bytes, long limit, long stored);

    [LoggerMessage(Level = LogLevel.Warning, Message = "request {Type} from {Peer} failed: {Reason}")]
    public static partial void HandlerFailed(ILogger logger, uint type, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "commit journal {Path} ends in {Problem}; that commit was never acknowledged and is dropped")]
    public static partial void JournalTail(ILogger logger, string path, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "commit journal {Path} holds a record that fails authentication ({Reason}); skipped")]
    public static partial void JournalRecordRejected(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "replayed {Applied} of {Count} file commits from the commit journal (the rest were already stored)")]
    public static partial void JournalReplayed(ILogger logger, int applied, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "storing journaled commits in the metadata database failed: {Reason}; they stay in the journal, retrying in {Seconds:F0} s")]
    public static partial void DeferredApplyFailed(ILogger logger, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "replica of chunk {Chunk} stored here fails its check ({Reason}); deleted, fetching a good copy from a peer")]
    public static partial void BadReplica(ILogger logger, NexNet.Crypto.ChunkId chunk, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} failed: {Reason}; trying again later")]
    public static partial void LoopFailed(ILogger logger, string what, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "this storage peer has no volume public key (volume.pub), so it cannot tell members' records and collect notices from forgeries and keeps none: give it one by running `nexnet join` here with a storage-only invite from a member")]
    public static partial void NoVolumePublicKey(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "record at sequence {Seq} is {Bytes} bytes, larger than a record may be: not sent to peers")]
    public static partial void RecordTooLargeToSend(ILogger logger, long seq, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused chunks from {Peer}: the storage quota ({Quota} bytes) is full")]
    public static partial void QuotaFull(ILogger logger, string peer, long quota);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer} replaces {Count} copies held here that failed its proof of possession")]
    public static partial void CopiesReplaced(ILogger logger, string peer, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer} failed the proof of possession for {Count} chunks it claims to hold; sending it the real ones")]
    public static partial void ProofFailed(ILogger logger, string peer, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer} refused the replacement of copies that failed their proof: {Reason}")]
    public static partial void ReplaceRefused(ILogger logger, string peer, string reason);
}
