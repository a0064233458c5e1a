namespace NexNet.WebDav;

/// <summary>One WebDAV lock: who holds which path, how deep, until when.</summary>
internal sealed class DavLock(string token, string path, bool exclusive, bool infinite, XElement? owner, TimeSpan timeout)
{
    public string Token { get; } = token;

    public string Path { get; set; } = path;

    public bool Exclusive { get; } = exclusive;

    /// <summary>Depth infinity: covers everything below a collection too.</summary>
    public bool Infinite { get; } = infinite;

    public XElement? Owner { get; } = owner;

    public TimeSpan Timeout { get; private set; } = timeout;

    public DateTimeOffset Expires { get; private set; } = DateTimeOffset.UtcNow + timeout;

    public void Refresh(TimeSpan timeout)
    {
        Timeout = timeout;
        Expires = DateTimeOffset.UtcNow + timeout;
    }

    /// <summary>True when this lock applies to <paramref name="path"/> (its own path, or below it at depth infinity).</summary>
    public bool Covers(string path) => path == Path || (Infinite && Node.VolumePath.IsWithin(path, Path));
}
