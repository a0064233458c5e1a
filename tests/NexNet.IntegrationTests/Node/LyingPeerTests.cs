using System.Net;
using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.Node;
using NexNet.Node.Protocol;
using NexNet.P2P;

namespace NexNet.IntegrationTests.Node;

/// <summary>A peer with the network secret but not the volume key sends forged records and bad chunks: the member drops them with one log line each and keeps serving.</summary>
public sealed class LyingPeerTests
{
    [Fact]
    public async Task Forged_records_and_chunks_from_a_peer_are_rejected_and_the_node_keeps_working()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(1);
        NexNetNode member = cluster[0];
        await using var liar = new PeerNetwork(NodeIdentity.CreateEphemeral(), cluster.NetworkSecret, FastPeerOptions.Create());
        liar.Start(new IPEndPoint(IPAddress.Loopback, 0));
        PeerConnection connection = await liar.ConnectAsync(member.Address, TestContext.Current.CancellationToken);

        // A record under a random key with a body that is not sealed with the volume's keys.
        var batch = new RecordBatch();
        batch.Records.Add(new SealedRecord
        {
            Key = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Clock = 1UL << 40,
            Origin = ByteString.CopyFrom(liar.Id.ToBytes()),
            Body = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(200)),
        });
        await connection.SendAsync(NodeMessageType.RecordPush, batch.ToByteArray(), TestContext.Current.CancellationToken);
        await Eventually.WaitAsync(() => member.Status().RecordsRejected == 1, TimeSpan.FromSeconds(10), "the forged record is rejected");
        Assert.Equal(0, member.Status().Records);

        // A chunk pushed under an id its bytes do not hash to.
        var id = NexNet.Crypto.ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] blob = [(byte)'N', (byte)'X', (byte)'B', 1, .. RandomNumberGenerator.GetBytes(32 + 1000)];
        await Assert.ThrowsAsync<PeerRequestException>(async () =>
        {
            await using PeerResponse _ = await connection.RequestAsync(NodeMessageType.PutChunks, ReadOnlyMemory<byte>.Empty,
                (stream, ct) => NexNet.Storage.BlobTransfer.SendAsync(id, blob, stream, ct).AsTask(), cancellationToken: TestContext.Current.CancellationToken);
        });
        Assert.Empty(member.LocalChunks());
        Assert.Contains(cluster.Logs[0].Lines, l => l.Contains("fails authentication", StringComparison.Ordinal));
        Assert.Contains(cluster.Logs[0].Lines, l => l.Contains("fail their check", StringComparison.Ordinal));

        // Still serving: a real write and read work.
        byte[] data = RandomNumberGenerator.GetBytes(3000);
        await member.Volume!.WriteFileAsync("/ok.txt", new MemoryStream(data), cancellationToken: TestContext.Current.CancellationToken);
        byte[] back = new byte[3000];
        Assert.Equal(3000, await member.Volume.ReadAsync(member.Volume.Stat("/ok.txt")!, 0, back, TestContext.Current.CancellationToken));
        Assert.Equal(data, back);
    }
}
