namespace NexNet.Storage;

/// <summary>
/// A member's index of one path's newest record: where it sits in the tree, whether it is a tombstone,
/// its version, and the record's sealed body. Kept beside the records so listing a directory is an
/// index lookup. <see cref="Path"/> and <see cref="Parent"/> are whatever names the caller indexes by
/// (the node uses keyed hashes, so no plaintext name is stored).
/// </summary>
public sealed record EntryRow(string Path, string Parent, bool Deleted, long Clock, byte[] Origin, byte[] Body);
