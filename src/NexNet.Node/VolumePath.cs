namespace NexNet.Node;

/// <summary>
/// Paths inside a volume: absolute, '/'-separated, no empty, "." or ".." components, no NUL, no trailing
/// slash; the root is "/". Every path is normalized here once, so the tree never holds two spellings of one name.
/// </summary>
public static class VolumePath
{
    public const string Root = "/";

    /// <summary>The longest name one component may have (as on Linux).</summary>
    public const int MaxNameBytes = 255;

    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new VolumeException(VolumeError.InvalidPath, $"path contains a NUL character: {path.Replace("\0", "\\0", StringComparison.Ordinal)}");
        }

        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (string part in parts)
        {
            if (part is "." or "..")
            {
                throw new VolumeException(VolumeError.InvalidPath, $"path may not contain '.' or '..': {path}");
            }

            if (System.Text.Encoding.UTF8.GetByteCount(part) > MaxNameBytes)
            {
                throw new VolumeException(VolumeError.InvalidPath, $"name longer than {MaxNameBytes} bytes in {path}");
            }
        }

        return parts.Length == 0 ? Root : "/" + string.Join('/', parts);
    }

    /// <summary>The parent of a normalized path ("/" for top-level names and for the root itself).</summary>
    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? Root : path[..slash];
    }

    /// <summary>The last component of a normalized path ("" for the root).</summary>
    public static string Name(string path) => path == Root ? "" : path[(path.LastIndexOf('/') + 1)..];

    public static string Combine(string directory, string name) => directory == Root ? "/" + name : directory + "/" + name;

    /// <summary>True when <paramref name="path"/> is <paramref name="ancestor"/> or lies below it.</summary>
    public static bool IsWithin(string path, string ancestor) =>
        ancestor == Root || path == ancestor || path.StartsWith(ancestor + "/", StringComparison.Ordinal);
}
