using System.CommandLine;
using NexNet.WebDav;

namespace NexNet.Cli.Commands;

/// <summary><c>--webdav</c>, <c>--webdav-https</c> and <c>--webdav-host</c>, which <c>node</c> and <c>mount</c> both take.</summary>
internal sealed class WebDavFlags
{
    /// <summary>Where WebDAV listens when it is asked for: 127.0.0.1:4780 unless given.</summary>
    public const string DefaultListen = "127.0.0.1:4780";

    private readonly Option<string?> _listen = new("--webdav")
    {
        Description = $"Also serve the volume over WebDAV (Explorer, Finder, davfs2) at HOST:PORT (default {DefaultListen}), with the password in webdav.password",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private readonly Option<bool> _https = new("--webdav-https")
    {
        Description = "Serve WebDAV over HTTPS with a generated self-signed certificate (always so when --webdav binds beyond 127.0.0.1)",
    };

    private readonly Option<string[]> _hosts = new("--webdav-host")
    {
        Description = "A host name (NAME or NAME:PORT) WebDAV requests may use besides its address (repeatable); overrides config.json's webdavHosts",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_listen);
        command.Options.Add(_https);
        command.Options.Add(_hosts);
    }

    /// <summary>The WebDAV front end's options, or null when --webdav is not given.</summary>
    public WebDavOptions? OptionsOf(ParseResult result, NodeConfig config)
    {
        if (result.GetResult(_listen) is null)
        {
            return null;
        }

        string[] flagged = result.GetValue(_hosts) ?? [];
        return new WebDavOptions
        {
            Listen = NodeConfig.ParseEndPoint(result.GetValue(_listen) ?? DefaultListen, "--webdav"),
            Https = result.GetValue(_https),
            Hosts = flagged.Length > 0 ? NodeConfig.ParseWebDavHosts(flagged, "--webdav-host") : config.WebDavHosts,
        };
    }
}
