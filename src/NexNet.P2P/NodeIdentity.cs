using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NexNet.Crypto;

namespace NexNet.P2P;

/// <summary>
/// A node's long-lived identity: an ECDSA P-256 key and a self-signed certificate for it, kept as
/// <c>node.key</c> (PKCS#8 PEM, mode 0600) and <c>node.crt</c> in the data dir. TLS presents the
/// certificate; peers derive <see cref="Id"/> from its public key. Trust does not come from the
/// certificate but from the network-secret proof in the handshake.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    public const string KeyFileName = "node.key";
    public const string CertificateFileName = "node.crt";

    private NodeIdentity(X509Certificate2 certificate)
    {
        Certificate = certificate;
        Id = IdOf(certificate);
    }

    public NodeId Id { get; }

    /// <summary>The certificate with its private key, ready for SslStream.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The node id a certificate stands for: SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static NodeId IdOf(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var cert = new X509Certificate2(certificate);
        return NodeId.FromPublicKey(cert.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Loads the identity from <paramref name="dataDir"/>, creating it on first use.</summary>
    public static NodeIdentity LoadOrCreate(string dataDir)
    {
        string keyPath = Path.Combine(dataDir, KeyFileName);
        string certPath = Path.Combine(dataDir, CertificateFileName);
        if (!File.Exists(keyPath))
        {
            Directory.CreateDirectory(dataDir);
            return Create(keyPath, certPath);
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & (UnixFileMode)0x3F) != 0)
        {
            throw new KeyFileException($"key file {keyPath} is readable by other users; run `chmod 600 {keyPath}`");
        }

        if (!File.Exists(certPath))
        {
            throw new KeyFileException($"node certificate {certPath} is missing beside {keyPath}; restore it from a backup or move both away to make a new identity");
        }

        try
        {
            using var withKey = X509Certificate2.CreateFromPem(File.ReadAllText(certPath), File.ReadAllText(keyPath));
            return new NodeIdentity(Exportable(withKey));
        }
        catch (CryptographicException e)
        {
            throw new KeyFileException($"node identity in {dataDir} is damaged ({e.Message}); restore {KeyFileName} and {CertificateFileName} from a backup", e);
        }
    }

    /// <summary>A fresh identity that lives only in memory (tests, tools).</summary>
    public static NodeIdentity CreateEphemeral()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 cert = SelfSign(key);
        return new NodeIdentity(Exportable(cert));
    }

    private static NodeIdentity Create(string keyPath, string certPath)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 cert = SelfSign(key);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var keyFile = new StreamWriter(new FileStream(keyPath, options)))
        {
            keyFile.Write(key.ExportPkcs8PrivateKeyPem());
        }

        File.WriteAllText(certPath, cert.ExportCertificatePem());
        return new NodeIdentity(Exportable(cert));
    }

    private static X509Certificate2 SelfSign(ECDsa key)
    {
        var request = new CertificateRequest("CN=nexnet-node", key, HashAlgorithmName.SHA256);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
    }

    // SslStream wants a certificate whose key it can use on every platform: round-trip through PKCS#12.
    private static X509Certificate2 Exportable(X509Certificate2 cert) =>
        X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);

    public void Dispose() => Certificate.Dispose();
}
