namespace NexNet.Storage;

/// <summary>
/// One sealed entry record as this node keeps it: the record key (HMAC of the path), its version in clear
/// (clock and origin node), the sealed body, and the local sequence number it was stored under. The
/// storage layer never opens the body.
/// </summary>
public sealed record StoredRecord(byte[] Key, long Clock, byte[] Origin, byte[] Body, long Seq);
