using System.Net;

namespace NexNet.WebDav;

/// <summary>
/// Refuses a request whose Host header names anything but this server. It is the defence against DNS
/// rebinding: a web page points its own name at 127.0.0.1, and the browser, which trusts names, lets the
/// page's scripts read what the local server answers. A request may name the address it reached
/// (IP:PORT), <c>localhost</c> when it reached loopback, this machine's name when the server listens on
/// every address (the name its URL carries), or one of the configured names.
/// </summary>
internal sealed class HostCheck
{
    private readonly (string Name, int? Port)[] _configured;
    private readonly string? _machineName;

    public HostCheck(IEnumerable<string> configured, IPAddress listen)
    {
        _configured = [.. configured.Select(entry => WebDavOptions.ParseHost(entry) ?? throw new ArgumentException($"not a host name or NAME:PORT: \"{entry}\"", nameof(configured)))];
        _machineName = listen.Equals(IPAddress.Any) || listen.Equals(IPAddress.IPv6Any) ? Dns.GetHostName() : null;
    }

    public bool Allows(HttpContext context)
    {
        HostString host = context.Request.Host;
        if (!host.HasValue)
        {
            return false;
        }

        string name = host.Host;
        int port = host.Port ?? (context.Request.IsHttps ? 443 : 80);
        int served = context.Connection.LocalPort;
        foreach ((string configured, int? configuredPort) in _configured)
        {
            if (string.Equals(name, configured, StringComparison.OrdinalIgnoreCase) && port == (configuredPort ?? served))
            {
                return true;
            }
        }

        if (port != served || context.Connection.LocalIpAddress is not { } reached)
        {
            return false;
        }

        if (IPAddress.TryParse(name.TrimStart('[').TrimEnd(']'), out IPAddress? named))
        {
            return Plain(named).Equals(Plain(reached));
        }

        return string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.IsLoopback(reached)
            : _machineName is not null && string.Equals(name, _machineName, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>An IPv4 address as itself even when a dual-stack socket reports it as ::ffff:a.b.c.d.</summary>
    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
