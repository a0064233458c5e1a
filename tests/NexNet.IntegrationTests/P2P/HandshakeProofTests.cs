using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.P2P;
using NexNet.P2P.Wire;

namespace NexNet.IntegrationTests.P2P;

/// <summary>
/// The responder's proof of the network secret is bound to its role, both node ids and both nonces: a
/// responder that knows the secret but answers with a proof over anything else than this session (the
/// initiator's own proof reflected back, another session's nonces, other ids) is refused. Real TLS on
/// 127.0.0.1; the responder is hand-written so each field of its proof can be chosen.
/// </summary>
public sealed class HandshakeProofTests
{
    public enum Tampered
    {
        Nothing,
        Role,
        InitiatorId,
        ResponderId,
        InitiatorNonce,
        ResponderNonce,
        Reflected,
    }

    [Theory]
    [InlineData(Tampered.Nothing)]
    [InlineData(Tampered.Role)]
    [InlineData(Tampered.InitiatorId)]
    [InlineData(Tampered.ResponderId)]
    [InlineData(Tampered.InitiatorNonce)]
    [InlineData(Tampered.ResponderNonce)]
    [InlineData(Tampered.Reflected)]
    public async Task A_responder_proof_counts_only_for_this_role_these_ids_and_these_nonces(Tampered tampered)
    {
        CancellationToken cancel = TestContext.Current.CancellationToken;
        byte[] key = Handshake.ProofKey(RandomNumberGenerator.GetBytes(32));
        using NodeIdentity initiator = NodeIdentity.CreateEphemeral(), responder = NodeIdentity.CreateEphemeral();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync((IPEndPoint)listener.LocalEndpoint, cancel);
        Task<Handshake.Result> dial = Handshake.InitiateAsync(new NetworkStream(socket, ownsSocket: true), initiator, key, cancel);

        using Socket accepted = await listener.AcceptSocketAsync(cancel);
        await using var tls = new SslStream(new NetworkStream(accepted), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsServerAsync(Handshake.ServerOptions(responder), cancel);
        var reader = new FrameReader(tls);
        Hello theirs = Hello.Parser.ParseFrom(await ReadEnvelopeBodyAsync(reader, MessageType.Hello));
        byte[] initiatorNonce = theirs.Nonce.ToByteArray(), responderNonce = RandomNumberGenerator.GetBytes(32);
        await WriteAsync(tls, MessageType.Hello, new Hello { ProtocolVersion = PeerOptions.ProtocolVersion, NodeId = ByteString.CopyFrom(responder.Id.ToBytes()), Nonce = ByteString.CopyFrom(responderNonce) });
        Proof theirProof = Proof.Parser.ParseFrom(await ReadEnvelopeBodyAsync(reader, MessageType.Proof));

        byte[] other = RandomNumberGenerator.GetBytes(32);
        using NodeIdentity stranger = NodeIdentity.CreateEphemeral();
        byte[] answer = tampered switch
        {
            Tampered.Nothing => Handshake.Compute(key, Handshake.ResponderRole, initiator.Id, responder.Id, initiatorNonce, responderNonce),
            Tampered.Role => Handshake.Compute(key, Handshake.InitiatorRole, initiator.Id, responder.Id, initiatorNonce, responderNonce),
            Tampered.InitiatorId => Handshake.Compute(key, Handshake.ResponderRole, stranger.Id, responder.Id, initiatorNonce, responderNonce),
            Tampered.ResponderId => Handshake.Compute(key, Handshake.ResponderRole, initiator.Id, stranger.Id, initiatorNonce, responderNonce),
            Tampered.InitiatorNonce => Handshake.Compute(key, Handshake.ResponderRole, initiator.Id, responder.Id, other, responderNonce),
            Tampered.ResponderNonce => Handshake.Compute(key, Handshake.ResponderRole, initiator.Id, responder.Id, initiatorNonce, other),
            _ => theirProof.Mac.ToByteArray(), // the initiator's own proof, sent back
        };
        await WriteAsync(tls, MessageType.Proof, new Proof { Mac = ByteString.CopyFrom(answer) });

        if (tampered == Tampered.Nothing)
        {
            Handshake.Result result = await dial;
            Assert.Equal(responder.Id, result.RemoteId);
            await result.Tls.DisposeAsync();
        }
        else
        {
            HandshakeException refused = await Assert.ThrowsAsync<HandshakeException>(() => dial);
            Assert.Equal(HandshakeFailure.Authentication, refused.Failure);
        }
    }

    private static async Task<byte[]> ReadEnvelopeBodyAsync(FrameReader reader, uint expected)
    {
        FrameHeader header = (await reader.ReadHeaderAsync(FrameCodec.MaxHandshakePayload, TestContext.Current.CancellationToken))!.Value;
        byte[] payload = new byte[header.PayloadLength];
        await reader.ReadExactlyAsync(payload, TestContext.Current.CancellationToken);
        Envelope envelope = Envelope.Parser.ParseFrom(payload);
        Assert.Equal(expected, envelope.Type);
        return envelope.Body.ToByteArray();
    }

    private static async Task WriteAsync(Stream tls, uint type, IMessage message)
    {
        await tls.WriteAsync(HostilePeer.Frame(new Envelope { Type = type, Body = message.ToByteString() }), TestContext.Current.CancellationToken);
        await tls.FlushAsync(TestContext.Current.CancellationToken);
    }
}
