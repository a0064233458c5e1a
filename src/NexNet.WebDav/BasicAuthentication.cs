using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace NexNet.WebDav;

/// <summary>
/// HTTP Basic authentication against the data directory's WebDAV password (<c>webdav.password</c>, 0600,
/// 128 random bits): the credential clients keep in their own stores — davfs2's secrets file, the macOS
/// keychain, Windows' credential manager — instead of a secret in the URL, which every local user sees in
/// the mounting command's arguments. Any user name is taken; the password decides, compared in constant time.
/// </summary>
internal sealed class BasicAuthentication(byte[] password)
{
    public const string UserName = "nexnet";

    /// <summary>What a 401 answer carries, so clients ask for (or look up) the credential.</summary>
    public const string Challenge = "Basic realm=\"NexNet\", charset=\"UTF-8\"";

    public bool Allows(HttpRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || header.Length > 1024)
        {
            return false;
        }

        byte[] decoded = ArrayPool<byte>.Shared.Rent(header.Length);
        try
        {
            if (!Convert.TryFromBase64Chars(header.AsSpan(6).Trim(), decoded, out int length))
            {
                return false;
            }

            ReadOnlySpan<byte> credentials = decoded.AsSpan(0, length);
            int colon = credentials.IndexOf((byte)':');
            return colon >= 0 && CryptographicOperations.FixedTimeEquals(credentials[(colon + 1)..], password);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }

    /// <summary>The password in <paramref name="path"/>, made (random, 128 bits, hex) and kept 0600 on first use.</summary>
    public static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim());
        }

        string password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, options))
        {
            writer.Write(password);
        }

        return Encoding.UTF8.GetBytes(password);
    }
}
