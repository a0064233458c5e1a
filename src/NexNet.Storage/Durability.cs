namespace NexNet.Storage;

/// <summary>
/// What a committed metadata transaction survives. Passed by the caller that knows: a file system need
/// not make an edit durable before fsync, a <c>put</c> must be durable when it returns.
/// </summary>
public enum Durability
{
    /// <summary>Survives a power cut once the commit returns (SQLite synchronous=FULL).</summary>
    Full,

    /// <summary>
    /// Survives a killed process at once, a power cut only after <see cref="MetaDatabase.Flush"/> or a later
    /// full commit (synchronous=NORMAL in WAL mode).
    /// </summary>
    Relaxed,
}
