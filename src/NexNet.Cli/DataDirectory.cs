using NexNet.Cli.Internal;
using NexNet.Node;

namespace NexNet.Cli;

/// <summary>Where a node keeps its keys, database, chunks, config and logs, and the checks every command makes on it.</summary>
internal static class DataDirectory
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = OwnerOnlyFile | UnixFileMode.UserExecute;

    /// <summary>The blob store's folder (<c>NexNetNode</c> keeps its blobs there).</summary>
    private const string BlobFolder = "blobs";

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
            Directory.CreateDirectory(path, OwnerOnlyFolder);
        }
    }

    /// <summary>
    /// Makes <paramref name="path"/> owner-only whatever it was before — the folder and every folder in it 0700,
    /// every file 0600 — and sets this process's umask to 077, so what the node makes from now on (SQLite's
    /// meta.db and its -wal and -shm, blob folders, logs, the control socket) is born owner-only. Not walked:
    /// symbolic links (nothing outside is touched), the blobs in <c>blobs/</c> (ciphertext, written 0600, and
    /// there can be millions; the folder itself is made 0700), and key files readable by others, which the
    /// node refuses with a message to check who has read them instead of hiding that they were.
    /// </summary>
    public static void MakePrivate(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        _ = ProcessPermissions.SetUmask(0x3F); // 077
        try
        {
            File.SetUnixFileMode(path, OwnerOnlyFolder);
            Tighten(new DirectoryInfo(path));
        }
        catch (UnauthorizedAccessException)
        {
            throw PermissionDenied(path);
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Tighten(DirectoryInfo folder)
    {
        foreach (FileSystemInfo entry in folder.EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
            {
                continue;
            }

            if (entry is DirectoryInfo child)
            {
                child.UnixFileMode = OwnerOnlyFolder;
                if (child.Name != BlobFolder)
                {
                    Tighten(child);
                }
            }
            else if (!(entry.Extension == ".key" && (entry.UnixFileMode & ~OwnerOnlyFolder) != 0))
            {
                entry.UnixFileMode = OwnerOnlyFile;
            }
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
