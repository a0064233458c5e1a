namespace NexNet.Node.State;

/// <summary>
/// One sealed entry record as this node keeps it: the record key (HMAC of the path), its version in clear
/// (clock and origin node), the sealed body, the local sequence number it was stored under, and the volume
/// signing key's signature over it (null for a record stored before records were signed). The storage
/// layer never opens the body.
/// </summary>
internal sealed record StoredRecord(byte[] Key, long Clock, byte[] Origin, byte[] Body, long Seq, byte[]? Signature);
