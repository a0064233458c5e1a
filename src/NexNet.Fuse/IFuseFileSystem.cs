namespace NexNet.Fuse;

/// <summary>
/// The operations the FUSE host forwards, as managed calls returning 0 or a negative errno. The
/// adapter onto the Volume API implements it; tests implement it in memory. Implementations must not
/// throw: the host turns an escaping exception into -EIO, but it is a bug.
/// </summary>
public interface IFuseFileSystem
{
    int GetAttributes(string path, out NodeAttributes attributes);

    /// <summary>Names in a directory (without "." and "..").</summary>
    int ReadDirectory(string path, ICollection<string> names);

    int Open(string path, int flags);

    /// <summary>Bytes read into <paramref name="buffer"/> from <paramref name="offset"/>, or a negative errno.</summary>
    int Read(string path, Span<byte> buffer, long offset);
}
