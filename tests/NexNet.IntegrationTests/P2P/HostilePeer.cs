using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Google.Protobuf;
using NexNet.Node;
using NexNet.Node.Protocol;
using NexNet.P2P;
using NexNet.P2P.Wire;

namespace NexNet.IntegrationTests.P2P;

/// <summary>
/// An attacker with the keys a storage peer really has: the network secret and nothing else (no volume
/// key, no volume signing key). It speaks the protocol through a real <see cref="PeerNetwork"/>, and below
/// it (raw frames on its own authenticated TLS session) where the attack needs to break the protocol's
/// manners, such as never reading.
/// </summary>
internal sealed class HostilePeer(byte[] networkSecret) : IAsyncDisposable
{
    private readonly PeerNetwork _network = StartNetwork(networkSecret);

    public NodeId Id => _network.Id;

    private static PeerNetwork StartNetwork(byte[] networkSecret)
    {
        var network = new PeerNetwork(NodeIdentity.CreateEphemeral(), networkSecret, FastPeerOptions.Create());
        network.Start(listen: null); // it only dials: a victim dialing back would make a second connection, and one of the two is closed
        return network;
    }

    public Task<PeerConnection> ConnectAsync(string address) => _network.ConnectAsync(address, TestContext.Current.CancellationToken);

    /// <summary>Every record <paramref name="victim"/> will give any peer that asks (what a storage peer relays).</summary>
    public static async Task<List<SealedRecord>> RecordsOfAsync(PeerConnection victim)
    {
        var records = new List<SealedRecord>();
        ulong after = 0;
        while (true)
        {
            await using PeerResponse response = await victim.RequestAsync(NodeMessageType.RecordsAfter, new RecordsAfter { Seq = after }.ToByteArray(),
                cancellationToken: TestContext.Current.CancellationToken);
            RecordBatch batch = RecordBatch.Parser.ParseFrom(response.Body.Span);
            records.AddRange(batch.Records);
            if (!batch.More)
            {
                return records;
            }

            after = batch.LastSeq;
        }
    }

    public static ValueTask PushAsync(PeerConnection victim, params SealedRecord[] records)
    {
        var batch = new RecordBatch();
        batch.Records.Add(records);
        return victim.SendAsync(NodeMessageType.RecordPush, batch.ToByteArray(), TestContext.Current.CancellationToken);
    }

    /// <summary>A record under <paramref name="key"/> that no volume key sealed or signed.</summary>
    public SealedRecord Junk(ByteString key, long clock, int bodyBytes = 200) => new()
    {
        Key = key,
        Clock = (ulong)clock,
        Origin = ByteString.CopyFrom(Id.ToBytes()),
        Body = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(bodyBytes)),
    };

    /// <summary>A blob of <paramref name="length"/> bytes with a well-formed start (magic, format 2) and random bytes after: what a peer without the volume key can make.</summary>
    public static byte[] JunkBlob(int length) => [(byte)'N', (byte)'X', (byte)'B', 2, .. System.Security.Cryptography.RandomNumberGenerator.GetBytes(length - 4)];

    /// <summary>An authenticated session of its own, below PeerNetwork: frames are written raw and nothing is read unless the caller reads.</summary>
    public static async Task<SslStream> RawSessionAsync(string address, byte[] networkSecret)
    {
        var endPoint = IPEndPoint.Parse(address);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        using NodeIdentity identity = NodeIdentity.CreateEphemeral();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Handshake.Result session = await Handshake.InitiateAsync(new NetworkStream(socket, ownsSocket: true), identity, Handshake.ProofKey(networkSecret), deadline.Token);
        return session.Tls;
    }

    /// <summary>One message frame carrying <paramref name="envelope"/>.</summary>
    public static byte[] Frame(Envelope envelope)
    {
        byte[] payload = envelope.ToByteArray();
        byte[] frame = new byte[FrameCodec.HeaderSize + payload.Length];
        FrameCodec.WriteHeader(frame, FrameType.Message, 0, payload.Length);
        payload.CopyTo(frame, FrameCodec.HeaderSize);
        return frame;
    }

    public ValueTask DisposeAsync() => _network.DisposeAsync();
}
