using System.Security.Cryptography;

namespace NexNet.Crypto;

/// <summary>
/// Secrets on disk: exactly 32 raw bytes in a file of mode 0600. Reading refuses a file that is missing,
/// of the wrong size, or open to group or others (as ssh does), with a message that says how to fix it.
/// </summary>
public static class KeyFile
{
    public const int SecretSize = 32;

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OthersMask =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates a new key file with 32 random bytes; fails if the file already exists.</summary>
    public static byte[] CreateNew(string path)
    {
        byte[] secret = RandomNumberGenerator.GetBytes(SecretSize);
        Write(path, secret);
        return secret;
    }

    /// <summary>Writes <paramref name="secret"/> to a new file created with mode 0600 and flushed to disk.</summary>
    public static void Write(string path, ReadOnlySpan<byte> secret)
    {
        if (secret.Length != SecretSize)
        {
            throw new ArgumentException($"a secret is {SecretSize} bytes, got {secret.Length}", nameof(secret));
        }

        WriteNew(path, secret);
    }

    /// <summary>
    /// Writes a public key (any length) the same way: a new file, 0600 like everything in a data directory,
    /// flushed. Public, but it decides what this node trusts, so nobody else should write it.
    /// </summary>
    public static void WritePublic(string path, ReadOnlySpan<byte> key) => WriteNew(path, key);

    private static void WriteNew(string path, ReadOnlySpan<byte> secret)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(secret);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new KeyFileException($"key file {path} already exists; refusing to overwrite a secret", e);
        }
    }

    public static byte[] Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new KeyFileException($"key file {path} is missing; run `nexnet init` to create one or `nexnet join` with an invite");
        }

        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(path);
            if ((mode & OthersMask) != 0)
            {
                throw new KeyFileException(
                    $"key file {path} is readable by other users (mode {Octal(mode)}); run `chmod 600 {path}` and check who has seen it");
            }
        }

        long length = new FileInfo(path).Length;
        if (length != SecretSize)
        {
            throw new KeyFileException($"key file {path} is {length} bytes, expected {SecretSize}; it is damaged or not a key file");
        }

        byte[] secret = File.ReadAllBytes(path);
        if (secret.Length != SecretSize)
        {
            CryptographicOperations.ZeroMemory(secret);
            throw new KeyFileException($"key file {path} changed while it was read; try again");
        }

        return secret;
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
