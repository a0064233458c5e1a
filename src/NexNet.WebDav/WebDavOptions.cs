using System.Net;

namespace NexNet.WebDav;

/// <summary>Where and how the WebDAV front end serves: its address, HTTPS, and the host names requests may use beyond that address.</summary>
public sealed record WebDavOptions
{
    /// <summary>The address to bind (port 0 picks a free one).</summary>
    public required IPEndPoint Listen { get; init; }

    /// <summary>HTTPS with the data directory's self-signed certificate (always so beyond loopback).</summary>
    public bool Https { get; init; }

    /// <summary>
    /// Names (<c>NAME</c> or <c>NAME:PORT</c>) that a request's Host header may carry besides the address the
    /// request reached: a DNS name of this machine, a port forward's outside address. Without a port, the served port.
    /// </summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>NAME or NAME:PORT with NAME a DNS name or an IP address ([…] for IPv6); null when it is not one.</summary>
    public static (string Name, int? Port)? ParseHost(string entry)
    {
        int colon = entry.StartsWith('[') ? entry.IndexOf("]:", StringComparison.Ordinal) + 1 : entry.IndexOf(':', StringComparison.Ordinal);
        string name = colon > 0 ? entry[..colon] : entry;
        int? port = null;
        if (colon > 0)
        {
            if (!int.TryParse(entry.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed) || parsed is < 1 or > 65535)
            {
                return null;
            }

            port = parsed;
        }

        UriHostNameType type = Uri.CheckHostName(name.StartsWith('[') && name.EndsWith(']') ? name[1..^1] : name);
        bool valid = name.StartsWith('[') ? type == UriHostNameType.IPv6 : type is UriHostNameType.Dns or UriHostNameType.IPv4;
        return valid ? (name, port) : null;
    }
}
