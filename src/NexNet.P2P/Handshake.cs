using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using NexNet.P2P.Internal;
using NexNet.P2P.Wire;

namespace NexNet.P2P;

/// <summary>
/// TLS 1.3 with a certificate on both sides, then Hello and proofs of the network secret. The peer's node
/// id must be the hash of the key its TLS certificate holds. The initiator proves first; the responder
/// answers only after verifying it, so a node without the secret learns nothing from a responder but
/// its Hello. Each proof covers the sender's role, both node ids and both fresh nonces, so it can be
/// neither replayed, nor reflected back, nor relayed by a man in the middle (who would present his own
/// certificate and so change the ids).
/// </summary>
internal static class Handshake
{
    internal const byte InitiatorRole = 1;
    internal const byte ResponderRole = 2;
    private static readonly byte[] s_proofLabel = Encoding.ASCII.GetBytes("nexnet/v1/hello-proof");
    private static readonly byte[] s_keySalt = Encoding.ASCII.GetBytes("NexNet.Fs network");

    /// <summary>The key proofs are made with, derived from the network secret (never the secret itself).</summary>
    public static byte[] ProofKey(ReadOnlySpan<byte> networkSecret)
    {
        byte[] prk = new byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, networkSecret, s_keySalt, prk);
        byte[] key = new byte[32];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, key, Encoding.ASCII.GetBytes("nexnet/v1/hello-proof-key"));
        CryptographicOperations.ZeroMemory(prk);
        return key;
    }

    public sealed record Result(SslStream Tls, FrameReader Reader, NodeId RemoteId);

    /// <summary>TLS 1.3, this node's certificate, any certificate from the peer (trust comes from the proof, identity from the key).</summary>
    internal static SslClientAuthenticationOptions ClientOptions(NodeIdentity identity) => new()
    {
        TargetHost = "nexnet",
        EnabledSslProtocols = SslProtocols.Tls13,
        ClientCertificates = [identity.Certificate],
        LocalCertificateSelectionCallback = (_, _, _, _, _) => identity.Certificate,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
        CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
    };

    internal static SslServerAuthenticationOptions ServerOptions(NodeIdentity identity) => new()
    {
        ServerCertificate = identity.Certificate,
        EnabledSslProtocols = SslProtocols.Tls13,
        ClientCertificateRequired = true,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
        CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
    };

    public static async Task<Result> InitiateAsync(Stream network, NodeIdentity identity, byte[] proofKey, CancellationToken cancellationToken, uint version = PeerOptions.ProtocolVersion)
    {
        var tls = new SslStream(new ReadBufferedStream(network), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(ClientOptions(identity), cancellationToken);
            NodeId remote = NodeIdentity.IdOf(tls.RemoteCertificate!);
            var input = new FrameReader(tls);

            byte[] myNonce = RandomNumberGenerator.GetBytes(32);
            await SendHelloAsync(tls, identity, version, myNonce, cancellationToken);
            Hello hello = await ReadAsync(input, MessageType.Hello, Hello.Parser, cancellationToken);
            await CheckVersionAsync(tls, hello, cancellationToken);

            CheckClaimedId(hello, remote);
            if (remote == identity.Id)
            {
                throw new HandshakeException(HandshakeFailure.Self, "dialed this node itself");
            }

            byte[] theirNonce = CheckNonce(hello);
            await WriteAsync(tls, MessageType.Proof, new Proof { Mac = ByteString.CopyFrom(Compute(proofKey, InitiatorRole, identity.Id, remote, myNonce, theirNonce)) }, cancellationToken);
            Proof proof = await ReadAsync(input, MessageType.Proof, Proof.Parser, cancellationToken);
            if (!CryptographicOperations.FixedTimeEquals(proof.Mac.Span, Compute(proofKey, ResponderRole, identity.Id, remote, myNonce, theirNonce)))
            {
                throw new HandshakeException(HandshakeFailure.Authentication, "peer's proof of the network secret is wrong (it is not in this network)");
            }

            return new Result(tls, input, remote);
        }
        catch (Exception e)
        {
            await tls.DisposeAsync();
            throw Classify(e);
        }
    }

    public static async Task<Result> RespondAsync(Stream network, NodeIdentity identity, byte[] proofKey, CancellationToken cancellationToken, uint version = PeerOptions.ProtocolVersion)
    {
        var tls = new SslStream(new ReadBufferedStream(network), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(ServerOptions(identity), cancellationToken);
            NodeId remote = NodeIdentity.IdOf(tls.RemoteCertificate!);
            var input = new FrameReader(tls);

            Hello hello = await ReadAsync(input, MessageType.Hello, Hello.Parser, cancellationToken);
            await CheckVersionAsync(tls, hello, cancellationToken);

            CheckClaimedId(hello, remote);
            byte[] theirNonce = CheckNonce(hello);
            if (remote == identity.Id)
            {
                await RefuseAsync(tls, Refuse.Types.Reason.Self, "you dialed yourself", cancellationToken);
                throw new HandshakeException(HandshakeFailure.Self, "a node dialed itself");
            }

            byte[] myNonce = RandomNumberGenerator.GetBytes(32);
            await SendHelloAsync(tls, identity, version, myNonce, cancellationToken);
            Proof proof = await ReadAsync(input, MessageType.Proof, Proof.Parser, cancellationToken);
            if (!CryptographicOperations.FixedTimeEquals(proof.Mac.Span, Compute(proofKey, InitiatorRole, remote, identity.Id, theirNonce, myNonce)))
            {
                await RefuseAsync(tls, Refuse.Types.Reason.Authentication, "wrong network secret", cancellationToken);
                throw new HandshakeException(HandshakeFailure.Authentication, "peer's proof of the network secret is wrong (wrong network secret)");
            }

            await WriteAsync(tls, MessageType.Proof, new Proof { Mac = ByteString.CopyFrom(Compute(proofKey, ResponderRole, remote, identity.Id, theirNonce, myNonce)) }, cancellationToken);
            return new Result(tls, input, remote);
        }
        catch (Exception e)
        {
            await tls.DisposeAsync();
            throw Classify(e);
        }
    }

    internal static byte[] Compute(byte[] key, byte role, NodeId initiator, NodeId responder, byte[] initiatorNonce, byte[] responderNonce)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(s_proofLabel);
        hmac.AppendData([role]);
        hmac.AppendData(initiator.ToBytes());
        hmac.AppendData(responder.ToBytes());
        hmac.AppendData(initiatorNonce);
        hmac.AppendData(responderNonce);
        return hmac.GetHashAndReset();
    }

    private static Task SendHelloAsync(Stream tls, NodeIdentity identity, uint version, byte[] nonce, CancellationToken cancellationToken) =>
        WriteAsync(tls, MessageType.Hello, new Hello { ProtocolVersion = version, NodeId = ByteString.CopyFrom(identity.Id.ToBytes()), Nonce = ByteString.CopyFrom(nonce) }, cancellationToken);

    /// <summary>Refuses (telling the peer why) and throws unless the peer speaks this node's protocol version.</summary>
    private static async Task CheckVersionAsync(Stream tls, Hello hello, CancellationToken cancellationToken)
    {
        if (hello.ProtocolVersion != PeerOptions.ProtocolVersion)
        {
            await RefuseAsync(tls, Refuse.Types.Reason.Version, $"this node speaks protocol {PeerOptions.ProtocolVersion}", cancellationToken);
            throw new HandshakeException(HandshakeFailure.Version, $"peer speaks protocol version {hello.ProtocolVersion}, this node {PeerOptions.ProtocolVersion}");
        }
    }

    private static void CheckClaimedId(Hello hello, NodeId fromCertificate)
    {
        if (!NodeId.TryFromBytes(hello.NodeId.Span, out NodeId claimed) || claimed != fromCertificate)
        {
            throw new HandshakeException(HandshakeFailure.Protocol, "peer's claimed node id does not match its TLS certificate");
        }
    }

    private static byte[] CheckNonce(Hello hello) =>
        hello.Nonce.Length == 32 ? hello.Nonce.ToByteArray() : throw new HandshakeException(HandshakeFailure.Protocol, "peer's nonce is not 32 bytes");

    private static async Task WriteAsync(Stream tls, uint type, IMessage message, CancellationToken cancellationToken)
    {
        byte[] payload = new Envelope { Type = type, Body = message.ToByteString() }.ToByteArray();
        byte[] frame = new byte[FrameCodec.HeaderSize + payload.Length];
        FrameCodec.WriteHeader(frame, FrameType.Message, 0, payload.Length);
        payload.CopyTo(frame, FrameCodec.HeaderSize);
        await tls.WriteAsync(frame, cancellationToken);
        await tls.FlushAsync(cancellationToken);
    }

    private static async Task RefuseAsync(Stream tls, Refuse.Types.Reason reason, string detail, CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(tls, MessageType.Refuse, new Refuse { Reason = reason, Detail = detail }, cancellationToken);
        }
        catch (IOException)
        {
            // The peer is already gone; the refusal is logged here all the same.
        }
    }

    /// <summary>Reads the next handshake message, which must be <paramref name="expected"/> (or a refusal, which is thrown).</summary>
    private static async Task<T> ReadAsync<T>(FrameReader input, uint expected, MessageParser<T> parser, CancellationToken cancellationToken) where T : IMessage<T>
    {
        FrameHeader header = await input.ReadHeaderAsync(FrameCodec.MaxHandshakePayload, cancellationToken)
            ?? throw new HandshakeException(HandshakeFailure.Transport, "peer closed the connection during the handshake");
        if (header.Unknown || header.Type != FrameType.Message)
        {
            throw new HandshakeException(HandshakeFailure.Protocol, "peer sent something other than a handshake message");
        }

        byte[] payload = new byte[header.PayloadLength];
        await input.ReadExactlyAsync(payload, cancellationToken);
        Envelope envelope = PeerConnection.ParseEnvelope(payload);
        if (envelope.Type == MessageType.Refuse)
        {
            Refuse refuse = Refuse.Parser.ParseFrom(envelope.Body);
            throw new HandshakeException(refuse.Reason switch
            {
                Refuse.Types.Reason.Version => HandshakeFailure.Version,
                Refuse.Types.Reason.Authentication => HandshakeFailure.Authentication,
                Refuse.Types.Reason.Self => HandshakeFailure.Self,
                _ => HandshakeFailure.Refused,
            }, $"peer refused the connection: {refuse.Reason} ({refuse.Detail})");
        }

        if (envelope.Type != expected)
        {
            throw new HandshakeException(HandshakeFailure.Protocol, $"peer sent message type {envelope.Type} where {expected} belongs");
        }

        return parser.ParseFrom(envelope.Body);
    }

    private static Exception Classify(Exception e) => e switch
    {
        HandshakeException => e,
        OperationCanceledException => new HandshakeException(HandshakeFailure.Timeout, "handshake timed out", e),
        AuthenticationException => new HandshakeException(HandshakeFailure.Transport, $"TLS handshake failed: {e.Message}", e),
        PeerProtocolException => new HandshakeException(HandshakeFailure.Protocol, e.Message, e),
        InvalidProtocolBufferException => new HandshakeException(HandshakeFailure.Protocol, $"undecodable handshake message: {e.Message}", e),
        IOException or ObjectDisposedException or System.Net.Sockets.SocketException => new HandshakeException(HandshakeFailure.Transport, $"connection failed during the handshake: {e.Message}", e),
        _ => e,
    };
}
