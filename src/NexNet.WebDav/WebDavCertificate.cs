using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NexNet.WebDav;

/// <summary>
/// The self-signed certificate WebDAV serves HTTPS with when it binds beyond loopback: made once
/// (ECDSA P-256, ten years, names: this host, localhost and the addresses it serves on) and kept as
/// <c>webdav.pfx</c> in the data directory, 0600. Clients pin it by the SHA-256 fingerprint the node prints.
/// </summary>
internal static class WebDavCertificate
{
    public const string FileName = "webdav.pfx";

    public static X509Certificate2 LoadOrCreate(string dataDirectory, IPAddress listen)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, null);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=NexNet WebDAV", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(Dns.GetHostName());
        names.AddIpAddress(IPAddress.Loopback);
        if (!listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any) && !listen.Equals(IPAddress.Loopback))
        {
            names.AddIpAddress(listen);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // server authentication
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
        byte[] pfx = made.Export(X509ContentType.Pfx);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(pfx);
        }

        return X509CertificateLoader.LoadPkcs12(pfx, null);
    }

    /// <summary>AB:CD:… over the whole certificate, as browsers show it.</summary>
    public static string Fingerprint(X509Certificate2 certificate) => Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Aggregate("", (all, pair) => all + (all.Length > 0 ? ":" : "") + new string(pair));
}
