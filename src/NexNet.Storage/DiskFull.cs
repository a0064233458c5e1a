namespace NexNet.Storage;

/// <summary>
/// Tells a full disk from other I/O failures, so every front end (mount, CLI, WebDAV) can say so in
/// words of its own: ENOSPC, or .NET's message for it where the HResult does not carry the errno.
/// </summary>
public static class DiskFull
{
    /// <summary>ENOSPC, the same on x86_64 and arm64: the HResult of an IOException the store raises for a full disk.</summary>
    public const int Enospc = 28;

    public static bool Is(IOException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.HResult == Enospc || e.Message.Contains("No space left", StringComparison.Ordinal);
    }
}
