namespace NexNet.Node.State;

/// <summary>
/// A record a newer one replaced, kept as history: the record's key, version and sealed body, and the
/// clock of the version that replaced it (<see cref="Until"/>; long.MaxValue for a record still current).
/// </summary>
internal sealed record StoredVersion(byte[] Key, long Clock, byte[] Origin, byte[] Body, long Until);
