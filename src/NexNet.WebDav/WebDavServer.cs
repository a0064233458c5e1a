using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NexNet.WebDav;

/// <summary>
/// The node's WebDAV front end on Kestrel, for Explorer, Finder and davfs2 (no driver needed). It binds
/// to 127.0.0.1 by default and asks every request for the data directory's WebDAV password
/// (<c>webdav.password</c>, 0600) with HTTP Basic authentication; beyond loopback it serves HTTPS only.
/// </summary>
public sealed class WebDavServer : IAsyncDisposable
{
    /// <summary>The WebDAV password's file in the data directory.</summary>
    public const string PasswordFile = "webdav.password";

    /// <summary>Where older versions kept the secret path prefix the password replaces; removed when found.</summary>
    private const string OldPrefixFile = "webdav.prefix";

    private readonly WebApplication _app;

    private WebDavServer(WebApplication app, string url, string? fingerprint)
    {
        _app = app;
        Url = url;
        CertificateFingerprint = fingerprint;
    }

    /// <summary>SHA-256 of the HTTPS certificate (null over plain HTTP on loopback).</summary>
    public string? CertificateFingerprint { get; }

    /// <summary>The URL to mount (no secret in it: the password is asked for).</summary>
    public string Url { get; }

    /// <summary>The user name clients give with the password (any is taken).</summary>
    public static string UserName => BasicAuthentication.UserName;

    public static async Task<WebDavServer> StartAsync(Volume volume, string dataDirectory, WebDavOptions options, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        IPEndPoint listen = options.Listen;
        var authentication = new BasicAuthentication(BasicAuthentication.LoadOrCreate(Path.Combine(dataDirectory, PasswordFile)));
        File.Delete(Path.Combine(dataDirectory, OldPrefixFile));
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
        var handler = new WebDavHandler(volume, new HostCheck(options.Hosts, listen.Address), authentication, new LockManager(), new DeadProperties(volume), log);
        app.Run(handler.HandleAsync);
        await app.StartAsync();
        var address = new UriBuilder(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        if (listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any))
        {
            address.Host = Dns.GetHostName(); // a name clients can use (the certificate carries it)
        }

        address.Path = "/";
        return new WebDavServer(app, address.Uri.ToString(), certificate is null ? null : WebDavCertificate.Fingerprint(certificate));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
