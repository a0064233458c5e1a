using System.Net;
using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.P2P;
using NexNet.Storage;

namespace NexNet.IntegrationTests.Node;

/// <summary>
/// Replicas pushed to a member are checked in full later, not on arrival: a damaged one with a valid
/// header is caught before its first read (and the read is served from a good copy), or in the
/// background once pushes pause, and it is deleted with one log line.
/// </summary>
public sealed class ReplicaVerifierTests
{
    [Fact]
    public async Task A_damaged_replica_is_caught_before_its_first_read_and_the_read_comes_from_a_good_copy()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2, replicationFactor: 2, configure: o => o.ReplicaCheckDelay = TimeSpan.FromDays(1));
        byte[] data = RandomNumberGenerator.GetBytes(200_000);
        ChunkId id = await PushDamagedReplicaAsync(cluster, cluster[0], data);
        Assert.Contains(id, cluster[0].LocalChunks());
        Assert.Equal(1, cluster[0].Verifier!.Pending);
        Assert.Equal(1, cluster[0].Status().ReplicasUnchecked);

        // The same bytes written through the other node: its push finds the (damaged) copy already there.
        await cluster[1].Volume!.WriteFileAsync("/f.bin", new MemoryStream(data), cancellationToken: TestContext.Current.CancellationToken);
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(20));
        await Eventually.WaitAsync(() => cluster[0].Volume!.Stat("/f.bin") is not null, TimeSpan.FromSeconds(10), "A sees the file");

        byte[] back = new byte[data.Length];
        Assert.Equal(data.Length, await cluster[0].Volume!.ReadAsync(cluster[0].Volume!.Stat("/f.bin")!, 0, back, TestContext.Current.CancellationToken));
        Assert.Equal(data, back);
        Assert.Equal(1, cluster[0].Status().BadChunksRejected);
        Assert.Equal(0, cluster[0].Verifier!.Pending);
        Assert.Single(cluster.Logs[0].Lines, l => l.Contains($"replica of chunk {id} stored here fails its check", StringComparison.Ordinal));
        Assert.Equal(1, cluster[0].Status().ChunksFetched); // the good copy, from the writer
    }

    [Fact]
    public async Task A_damaged_replica_is_caught_in_the_background_once_pushes_pause_and_a_good_copy_is_fetched_back()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2, replicationFactor: 2, configure: o => o.ReplicaCheckDelay = TimeSpan.FromMilliseconds(50));
        byte[] data = RandomNumberGenerator.GetBytes(5000);
        ChunkId id = await PushAsync(cluster[1], cluster.NetworkSecret, cluster.VolumeSecret, data, damage: false);
        Assert.Equal(id, await PushDamagedReplicaAsync(cluster, cluster[0], data));

        await Eventually.WaitAsync(() => cluster[0].Status().ChunksFetched == 1 && cluster[0].Verifier!.Pending == 0, TimeSpan.FromSeconds(10),
            "the damaged copy is caught and a good one fetched back");
        Assert.Contains(id, cluster[0].LocalChunks());
        Assert.Equal(1, cluster[0].Status().BadChunksRejected);
        Assert.Contains(cluster.Logs[0].Lines, l => l.Contains($"replica of chunk {id} stored here fails its check", StringComparison.Ordinal));
        using VolumeKeys keys = VolumeKeys.Derive(cluster.VolumeSecret);
        using var cipher = new BlobCipher(keys);
        cipher.Verify(File.ReadAllBytes(BlobPath(cluster.DataDirectory(0), id)), id); // the copy now here is good
    }

    [Fact]
    public async Task A_write_of_the_same_bytes_as_a_damaged_replica_stores_its_own_good_copy()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2, replicationFactor: 2, configure: o => o.ReplicaCheckDelay = TimeSpan.FromDays(1));
        byte[] data = RandomNumberGenerator.GetBytes(200_000);
        ChunkId id = await PushDamagedReplicaAsync(cluster, cluster[0], data);

        // The writer would otherwise keep the damaged copy as the file's only local one, and drop the good bytes it holds.
        EntryInfo file = await cluster[0].Volume!.WriteFileAsync("/f.bin", new MemoryStream(data), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([id], file.Content!.Chunks);
        Assert.Equal(0, cluster[0].Verifier!.Pending);
        Assert.Equal(1, cluster[0].Status().BadChunksRejected);
        using VolumeKeys keys = VolumeKeys.Derive(cluster.VolumeSecret);
        using var cipher = new BlobCipher(keys);
        cipher.Verify(File.ReadAllBytes(BlobPath(cluster.DataDirectory(0), id)), id);
    }

    private static string BlobPath(string dataDirectory, ChunkId id)
    {
        string hex = id.ToString();
        return Path.Combine(dataDirectory, "blobs", hex[..2], hex[2..4], hex);
    }

    [Fact]
    public async Task Replicas_not_yet_checked_are_remembered_across_a_restart()
    {
        using var dir = new TempDirectory();
        byte[] network = RandomNumberGenerator.GetBytes(32), volume = RandomNumberGenerator.GetBytes(32);
        KeyFile.Write(dir.Combine(NexNetNode.NetworkKeyFile), network);
        KeyFile.Write(dir.Combine(NexNetNode.VolumeKeyFile), volume);
        static NodeOptions Options()
        {
            NodeOptions options = FastNodeOptions.Create();
            options.ReplicaCheckDelay = TimeSpan.FromDays(1);
            return options;
        }

        ChunkId id;
        await using (NexNetNode node = NexNetNode.Start(dir.Path, Options()))
        {
            id = await PushAsync(node, network, volume, RandomNumberGenerator.GetBytes(5000), damage: false);
            Assert.Equal(1, node.Verifier!.Pending);
        }

        await using (NexNetNode node = NexNetNode.Start(dir.Path, Options()))
        {
            Assert.Equal(1, node.Verifier!.Pending);
            node.Verifier.EnsureVerified(id);
            Assert.Equal(0, node.Verifier.Pending);
            Assert.Contains(id, node.LocalChunks()); // a good copy stays
        }

        await using (NexNetNode node = NexNetNode.Start(dir.Path, Options()))
        {
            Assert.Equal(0, node.Verifier!.Pending);
        }
    }

    private static Task<ChunkId> PushDamagedReplicaAsync(NodeCluster cluster, NexNetNode target, byte[] plaintext) =>
        PushAsync(target, cluster.NetworkSecret, cluster.VolumeSecret, plaintext, damage: true);

    /// <summary>Seals <paramref name="plaintext"/> as a member would and pushes it to <paramref name="target"/> from a peer of the network, one ciphertext byte flipped if asked.</summary>
    private static async Task<ChunkId> PushAsync(NexNetNode target, byte[] networkSecret, byte[] volumeSecret, byte[] plaintext, bool damage)
    {
        using VolumeKeys keys = VolumeKeys.Derive(volumeSecret);
        using var cipher = new BlobCipher(keys);
        byte[] blob = new byte[BlobFormat.SealedLength(plaintext.Length)];
        (ChunkId id, int length) = cipher.Seal(plaintext, blob);
        if (damage)
        {
            blob[BlobFormat.HeaderSize + 7] ^= 0x01; // the header, and so its tag, stays as sealed
        }

        await using var pusher = new PeerNetwork(NodeIdentity.CreateEphemeral(), networkSecret, FastPeerOptions.Create());
        pusher.Start(new IPEndPoint(IPAddress.Loopback, 0));
        PeerConnection connection = await pusher.ConnectAsync(target.Address, TestContext.Current.CancellationToken);
        await using (PeerResponse _ = await connection.RequestAsync(NodeMessageType.PutChunks, ReadOnlyMemory<byte>.Empty,
            (stream, ct) => BlobTransfer.SendAsync(id, blob.AsMemory(0, length), stream, ct).AsTask(), cancellationToken: TestContext.Current.CancellationToken))
        {
        }

        return id;
    }
}
