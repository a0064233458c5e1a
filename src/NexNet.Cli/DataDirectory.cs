using NexNet.Node;

namespace NexNet.Cli;

/// <summary>Where a node keeps its keys, database, chunks, config and logs, and the checks every command makes on it.</summary>
internal static class DataDirectory
{
    /// <summary>--data, else $NEXNET_DATA, else ~/.local/share/nexnet.</summary>
    public static string Resolve(string? flag) => Path.GetFullPath(
        flag is { Length: > 0 } ? flag
        : Environment.GetEnvironmentVariable("NEXNET_DATA") is { Length: > 0 } set ? set
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "nexnet"));

    public static bool IsInitialised(string path) => File.Exists(Path.Combine(path, NexNetNode.NetworkKeyFile));

    /// <summary>Throws the right one-line error unless <paramref name="path"/> is a data directory this user can use.</summary>
    public static void RequireInitialised(string path)
    {
        if (!Directory.Exists(path))
        {
            throw new CliException($"there is no NexNet data directory at {path}: create one with `nexnet init` (a new volume) or `nexnet join --token-file FILE` (an existing one), or point --data at yours", ExitCodes.NotFound);
        }

        RequireAccess(path);
        if (!IsInitialised(path))
        {
            throw new CliException($"{path} is not a NexNet data directory (no {NexNetNode.NetworkKeyFile}): run `nexnet init` or `nexnet join --token-file FILE` with --data {path}", ExitCodes.NotFound);
        }
    }

    /// <summary>Throws a permission error when this user cannot list <paramref name="path"/> (root without CAP_DAC_OVERRIDE included).</summary>
    public static void RequireAccess(string path)
    {
        try
        {
            _ = Directory.EnumerateFileSystemEntries(path).Any();
        }
        catch (UnauthorizedAccessException)
        {
            throw PermissionDenied(path);
        }
    }

    /// <summary>A directory only its owner may enter (on Windows, the default ACL of the user's profile).</summary>
    public static void CreatePrivate(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static CliException PermissionDenied(string path) =>
        new($"permission denied on the data directory {path}: run as the user who owns it, or fix its owner and mode (ls -ld {path})", ExitCodes.Permission);

    /// <summary>Creates the directory owner-only (0700): it holds the keys.</summary>
    public static void Create(string path)
    {
        try
        {
            CreatePrivate(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw PermissionDenied(path);
        }
    }
}
