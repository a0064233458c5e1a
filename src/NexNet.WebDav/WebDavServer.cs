using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NexNet.Node;

namespace NexNet.WebDav;

/// <summary>
/// The node's WebDAV front end on Kestrel, for Explorer, Finder and davfs2 (no driver needed). It binds
/// to 127.0.0.1 by default and serves only under a random path prefix kept in the data directory
/// (<c>webdav.prefix</c>, 0600), so other local users cannot browse the volume by guessing the URL.
/// </summary>
public sealed class WebDavServer : IAsyncDisposable
{
    public const string PrefixFile = "webdav.prefix";

    private readonly WebApplication _app;

    private WebDavServer(WebApplication app, string url, string? fingerprint)
    {
        _app = app;
        Url = url;
        CertificateFingerprint = fingerprint;
    }

    /// <summary>SHA-256 of the HTTPS certificate (null over plain HTTP on loopback).</summary>
    public string? CertificateFingerprint { get; }

    /// <summary>The URL to mount, with its prefix and a trailing slash.</summary>
    public string Url { get; }

    public static async Task<WebDavServer> StartAsync(Volume volume, string dataDirectory, WebDavOptions options, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        IPEndPoint listen = options.Listen;
        string prefix = "/" + PrefixOf(dataDirectory);
        bool https = options.Https || !IPAddress.IsLoopback(listen.Address);
        X509Certificate2? certificate = https ? WebDavCertificate.LoadOrCreate(dataDirectory, listen.Address) : null;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // PUT streams files of any size
            kestrel.Listen(listen, endpoint =>
            {
                if (certificate is not null)
                {
                    endpoint.UseHttps(certificate);
                }
            });
        });
        WebApplication app = builder.Build();
        var handler = new WebDavHandler(volume, dataDirectory, prefix, new HostCheck(options.Hosts, listen.Address), new LockManager(), new DeadProperties(volume), log);
        app.Run(handler.HandleAsync);
        await app.StartAsync();
        var address = new UriBuilder(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        if (listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any))
        {
            address.Host = Dns.GetHostName(); // a name clients can use (the certificate carries it)
        }

        address.Path = prefix + "/";
        return new WebDavServer(app, address.Uri.ToString(), certificate is null ? null : WebDavCertificate.Fingerprint(certificate));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The data directory's prefix, made (random, 128 bits, URL-safe) on first use.</summary>
    private static string PrefixOf(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, PrefixFile);
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        string prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, options))
        {
            writer.Write(prefix);
        }

        return prefix;
    }
}
