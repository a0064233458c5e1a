namespace NexNet.Node.State;

/// <summary>
/// A member's index of one path's newest record: where it sits in the tree, whether it is a tombstone,
/// its version, and the record's sealed body (read from the record stored under the key
/// <see cref="Path"/> is the hex of; not stored twice). Kept beside the records so listing a directory
/// is an index lookup. <see cref="Summary"/>: a small sealed name and kind for listings. The node
/// indexes by keyed hashes, so no plaintext name is stored.
/// </summary>
internal sealed record EntryRow(string Path, string Parent, bool Deleted, long Clock, byte[] Origin, byte[] Body, byte[]? Summary = null);
