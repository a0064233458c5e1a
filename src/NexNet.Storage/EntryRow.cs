namespace NexNet.Storage;

/// <summary>
/// A member's opened view of one path's newest record: where it sits in the tree, whether it is a
/// tombstone, its version, and the encoded entry. Kept beside the sealed records so listing a directory
/// is an index lookup, not a decryption of every record.
/// </summary>
public sealed record EntryRow(string Path, string Parent, bool Deleted, long Clock, byte[] Origin, byte[] Body);
