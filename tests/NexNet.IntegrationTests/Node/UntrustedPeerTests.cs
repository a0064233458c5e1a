using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.Crypto;
using NexNet.IntegrationTests.P2P;
using NexNet.Node;
using NexNet.Node.Protocol;
using NexNet.Node.Replication;
using NexNet.Node.Sync;
using NexNet.P2P;
using NexNet.P2P.Wire;
using NexNet.Storage;

namespace NexNet.IntegrationTests.Node;

/// <summary>
/// Real node processes on 127.0.0.1 (two members and a storage peer) against a hostile peer that holds
/// only the network key, as every storage peer does: each attack that once worked is tried again, and
/// each test asserts what a user cares about (edits keep arriving, every copy stays real, sync goes on,
/// a real peer still gets in).
/// </summary>
[Collection(MeasuredTests.Name)]
public sealed class UntrustedPeerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static async Task<HostedFullNodeCluster> MembersAndStoragePeerAsync()
    {
        var cluster = new HostedFullNodeCluster { ReplicationFactor = 3 };
        await cluster.AddAsync("A");
        await cluster.AddAsync("B");
        await cluster.AddAsync("S", member: false);
        await cluster.WaitForMeshAsync();
        return cluster;
    }

    [Fact]
    public async Task A_record_stamped_at_the_end_of_time_freezes_no_path_and_poisons_no_late_joiner()
    {
        using HostedFullNodeCluster cluster = await MembersAndStoragePeerAsync();
        HostedFullNode a = cluster[0], b = cluster[1], storage = cluster[2];
        await a.RunAsync("gen /f 1000 1");
        await cluster.WaitAllAsync(async n => (await n.StatusAsync())["records"] == 1, TimeSpan.FromSeconds(20), "every node keeps /f's record");

        await using var attacker = new HostilePeer(cluster.NetworkSecret);
        PeerConnection toStorage = await attacker.ConnectAsync(storage.Address);
        List<SealedRecord> known = await HostilePeer.RecordsOfAsync(toStorage); // record keys travel in clear: any peer learns them
        SealedRecord real = Assert.Single(known);
        Assert.Equal(VolumeVerifier.SignatureSize, real.Signature.Length);
        SealedRecord[] poison =
        [
            attacker.Junk(real.Key, long.MaxValue - 1), // the real path, just below the end of the range
            attacker.Junk(ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), long.MaxValue), // a new key at the very end
            new SealedRecord(real) { Clock = (ulong)long.MaxValue }, // the real body and signature under another clock
            attacker.Junk(real.Key, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16) + 1), // the real path, stamped now: no clock bound stops it
            attacker.Junk(ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16),
        ];
        foreach (HostedFullNode victim in cluster.Nodes)
        {
            await HostilePeer.PushAsync(victim == storage ? toStorage : await attacker.ConnectAsync(victim.Address), poison);
        }

        await cluster.WaitAllAsync(async n => (await n.StatusAsync())["rejected"] >= poison.Length, TimeSpan.FromSeconds(10), $"every node refuses the {poison.Length} records");

        // A member's next edit reaches the other member within 2 s, and the storage peer keeps it.
        await a.RunAsync("gen /f 2000 2");
        var clock = Stopwatch.StartNew();
        await Eventually.WaitAsync(async () => await TryAsync(() => b.RunAsync("check /f 2000 2")), TimeSpan.FromSeconds(2), "B reads A's new /f",
            () => cluster.Logs);
        TestContext.Current.TestOutputHelper?.WriteLine($"A's edit after the poison reached B in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(1, (await storage.StatusAsync())["records"]);
        using (var volumeKey = new VolumeVerifier(VolumePublicKeys.Of(cluster.VolumeSecret)))
        {
            SealedRecord kept = Assert.Single(await HostilePeer.RecordsOfAsync(toStorage)); // what it relays to late joiners: the members' record, signed
            Assert.True(Tree.IsSignedByVolume(volumeKey, kept.Key.Memory, (long)kept.Clock, kept.Origin.Memory, kept.Body.Memory, kept.Signature.Span));
            Assert.True(kept.Clock < (ulong)long.MaxValue >> 1);
        }

        // A member that joins later, through the storage peer first, gets the real version and can edit it.
        HostedFullNode late = await HostedFullNode.StartAsync("C", cluster.NetworkSecret, cluster.VolumeSecret, 3, null, storage.Address);
        using (late)
        {
            await Eventually.WaitAsync(async () => await TryAsync(() => late.RunAsync("check /f 2000 2")), TimeSpan.FromSeconds(20), "the late member reads /f as A last wrote it",
                () => late.Log + storage.Log);
            await late.RunAsync("gen /f 3000 3");
            await Eventually.WaitAsync(async () => await TryAsync(() => a.RunAsync("check /f 3000 3")), TimeSpan.FromSeconds(5), "A reads the late member's edit",
                () => late.Log + a.Log);
        }

        Assert.Contains("unsigned record", AllOf(storage), StringComparison.Ordinal);
        Assert.Contains("signature is not the volume's", AllOf(storage), StringComparison.Ordinal);
        Assert.Contains("fails authentication", AllOf(a), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_record_stamped_past_the_skew_is_refused_and_later_edits_still_win()
    {
        // What a member whose clock ran a day ahead would send: sealed and signed with the real keys.
        await using NodeCluster cluster = await NodeCluster.StartAsync(2);
        NexNetNode a = cluster[0], b = cluster[1];
        await a.Volume!.WriteFileAsync("/f", new MemoryStream([1, 2, 3]), cancellationToken: Cancel);
        await Eventually.WaitAsync(() => b.Volume!.Stat("/f") is not null, TimeSpan.FromSeconds(10), "B sees /f");

        await using var skewed = new PeerNetwork(NodeIdentity.CreateEphemeral(), cluster.NetworkSecret, FastPeerOptions.Create());
        skewed.Start(listen: null);
        PeerConnection toB = await skewed.ConnectAsync(b.Address, Cancel);
        await PushMemberRecordAsync(toB, cluster.VolumeSecret, skewed.Id, "/f", DateTimeOffset.UtcNow.AddDays(1), [9]);
        await Eventually.WaitAsync(() => b.Status().RecordsRejected == 1, TimeSpan.FromSeconds(10), "B refuses the record from a day ahead");
        Assert.Contains(cluster.Logs[1].Lines, l => l.Contains("ahead of this node's clock", StringComparison.Ordinal));
        Assert.Equal(3, b.Volume!.Stat("/f")!.Size);

        await b.Volume.WriteFileAsync("/f", new MemoryStream([4, 5, 6, 7]), cancellationToken: Cancel);
        await Eventually.WaitAsync(() => a.Volume.Stat("/f")?.Size == 4, TimeSpan.FromSeconds(2), "A sees B's edit");
    }

    [Fact]
    public async Task A_member_record_a_little_past_the_skew_waits_and_is_applied_when_its_time_comes()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(2, configure: o => o.MaxClockSkew = TimeSpan.FromSeconds(1));
        NexNetNode a = cluster[0], b = cluster[1];
        await using var ahead = new PeerNetwork(NodeIdentity.CreateEphemeral(), cluster.NetworkSecret, FastPeerOptions.Create());
        ahead.Start(listen: null);
        PeerConnection toB = await ahead.ConnectAsync(b.Address, Cancel);
        await PushMemberRecordAsync(toB, cluster.VolumeSecret, ahead.Id, "/early", DateTimeOffset.UtcNow.AddSeconds(4), [1]);
        await Eventually.WaitAsync(() => b.Status().RecordsRejected == 1, TimeSpan.FromSeconds(5), "B refuses the early record for now");
        Assert.Null(b.Volume!.Stat("/early"));
        await Eventually.WaitAsync(() => b.Volume!.Stat("/early") is not null && a.Volume!.Stat("/early") is not null, TimeSpan.FromSeconds(15),
            "the record is applied on B once its time comes, and reaches A");
    }

    [Fact]
    public async Task A_forged_collect_and_a_junk_copy_leave_every_copy_real_and_only_a_members_notice_collects_them()
    {
        using HostedFullNodeCluster cluster = await MembersAndStoragePeerAsync();
        HostedFullNode a = cluster[0], storage = cluster[2];
        await a.RunAsync("gen /big 3000000 7"); // three chunks, each owned by all three nodes (R = 3)
        await cluster.WaitForCopiesAsync(chunks: 3, copies: 3, TimeSpan.FromSeconds(60));
        ChunkId[] ids = [.. (await storage.ChunksAsync()).Select(ChunkId.Parse)];

        var attacker = new HostilePeer(cluster.NetworkSecret);
        PeerConnection toStorage = await attacker.ConnectAsync(storage.Address);
        // The old unsigned id list, and a notice signed with a key of the attacker's own.
        await toStorage.SendAsync(NodeMessageType.CollectChunks, new ChunkIds { Ids = ByteString.CopyFrom([.. ids.SelectMany(i => i.ToBytes())]) }.ToByteArray(), Cancel);
        using (VolumeKeys own = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32)))
        using (VolumeSigner ownSigner = VolumeSigner.Create(own))
        {
            await toStorage.SendAsync(NodeMessageType.CollectChunks, SignedNotices.MakeCollect(ownSigner, ids, DateTimeOffset.UtcNow), Cancel);
        }

        // Then a well-formed blob of random bytes under each id, as if to take the copy's place.
        foreach (ChunkId id in ids)
        {
            byte[] junk = HostilePeer.JunkBlob(36 + 1_000_000);
            try
            {
                await using PeerResponse _ = await toStorage.RequestAsync(NodeMessageType.PutChunks, ReadOnlyMemory<byte>.Empty,
                    (stream, ct) => BlobTransfer.SendAsync(id, junk, stream, ct).AsTask(), cancellationToken: Cancel);
            }
            catch (PeerRequestException)
            {
                // Refused outright is as good as ignored.
            }
        }

        await Eventually.WaitAsync(() => AllOf(storage).Contains("collect notice the volume key did not sign", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
            "the storage peer says it refused the forged notices", () => storage.Log);

        // Gone again (while it was connected it counted as a node that owns chunks, and held none).
        await attacker.DisposeAsync();
        await a.RunAsync("repair");
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(30));
        foreach (ChunkId id in ids)
        {
            byte[] original = await File.ReadAllBytesAsync(BlobPath(a, id), Cancel);
            foreach (HostedFullNode node in cluster.Nodes)
            {
                Assert.True(File.Exists(BlobPath(node, id)), $"{node.Name} lost chunk {id}");
                Assert.Equal(original, await File.ReadAllBytesAsync(BlobPath(node, id), Cancel)); // the writer's sealed bytes, not the junk
            }
        }

        await cluster[1].RunAsync("check /big 3000000 7");

        // What does make a storage peer let go: the members' own notice, signed with the volume key.
        await a.RunAsync("rm /big");
        await cluster[1].RunAsync("sync");
        Assert.Equal("none", await cluster[1].RunAsync("stat /big"));
        await a.RunAsync("collect");
        await cluster[1].RunAsync("collect");
        await Eventually.WaitAsync(async () => (await storage.ChunksAsync()).Count == 0, TimeSpan.FromSeconds(10),
            "the storage peer deletes every chunk of the deleted file on the members' notice", () => storage.Log);
    }

    [Fact]
    public async Task A_storage_peer_copy_that_is_junk_fails_its_proof_and_is_replaced_with_the_real_one()
    {
        using HostedFullNodeCluster cluster = await MembersAndStoragePeerAsync();
        HostedFullNode a = cluster[0], storage = cluster[2];
        await a.RunAsync("gen /big 3000000 9");
        await cluster.WaitForCopiesAsync(chunks: 3, copies: 3, TimeSpan.FromSeconds(60));
        ChunkId[] ids = [.. (await storage.ChunksAsync()).Select(ChunkId.Parse).Order()];

        // What a storage peer that kept the real header over junk, or junk of the right length, would hold (and "have").
        byte[] real0 = await File.ReadAllBytesAsync(BlobPath(storage, ids[0]), Cancel);
        await File.WriteAllBytesAsync(BlobPath(storage, ids[0]), [.. real0.AsSpan(0, BlobFormat.HeaderSize), .. RandomNumberGenerator.GetBytes(real0.Length - BlobFormat.HeaderSize)], Cancel);
        byte[] real1 = await File.ReadAllBytesAsync(BlobPath(storage, ids[1]), Cancel);
        await File.WriteAllBytesAsync(BlobPath(storage, ids[1]), HostilePeer.JunkBlob(real1.Length), Cancel);

        await a.RunAsync("repair");
        await Eventually.WaitAsync(async () =>
            {
                foreach (ChunkId id in ids)
                {
                    if (!File.Exists(BlobPath(storage, id)))
                    {
                        return false; // between the bad copy's removal and the real one's arrival
                    }

                    byte[] theirs = await File.ReadAllBytesAsync(BlobPath(storage, id), Cancel), ours = await File.ReadAllBytesAsync(BlobPath(a, id), Cancel);
                    if (!theirs.AsSpan().SequenceEqual(ours))
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(20), "every copy on the storage peer is the writer's again", () => a.Log + storage.Log);
        // Each node says what it did (the lines come through the processes' pipes, so they may trail the files).
        await Eventually.WaitAsync(() => Counted(AllOf(a), "failed the proof of possession for ") == 2 && Counted(AllOf(storage), "replaces ") == 2,
            TimeSpan.FromSeconds(10), "the member says two copies failed their proofs and the storage peer that it replaced two", () => a.Log + storage.Log);

        // A holder of the network key alone cannot make the storage peer take junk in a real copy's place.
        await using var attacker = new HostilePeer(cluster.NetworkSecret);
        PeerConnection toStorage = await attacker.ConnectAsync(storage.Address);
        byte[] junk = HostilePeer.JunkBlob(real0.Length);
        using (VolumeKeys own = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32)))
        using (VolumeSigner ownSigner = VolumeSigner.Create(own))
        {
            byte[] forged = SignedNotices.MakeReplace(ownSigner, NodeId.Parse(storage.Id), [(ids[2], SHA256.HashData(junk))], DateTimeOffset.UtcNow);
            await Assert.ThrowsAsync<PeerRequestException>(async () =>
            {
                await using PeerResponse _ = await toStorage.RequestAsync(NodeMessageType.ReplaceChunks, forged,
                    (stream, ct) => BlobTransfer.SendAsync(ids[2], junk, stream, ct).AsTask(), cancellationToken: Cancel);
            });
        }

        Assert.Equal(await File.ReadAllBytesAsync(BlobPath(a, ids[2]), Cancel), await File.ReadAllBytesAsync(BlobPath(storage, ids[2]), Cancel));
        Assert.Contains("replace notice the volume key did not sign", AllOf(storage), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_record_of_a_megabyte_is_refused_and_sync_goes_on()
    {
        using HostedFullNodeCluster cluster = await MembersAndStoragePeerAsync();
        HostedFullNode a = cluster[0], b = cluster[1], storage = cluster[2];
        await using var attacker = new HostilePeer(cluster.NetworkSecret);
        PeerConnection toStorage = await attacker.ConnectAsync(storage.Address);
        await HostilePeer.PushAsync(toStorage, attacker.Junk(ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16,
            bodyBytes: FrameCodec.MaxPayload - 1024));
        await Eventually.WaitAsync(() => AllOf(storage).Contains("bytes (at most", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
            "the storage peer refuses the oversized record on arrival", () => storage.Log);

        await a.RunAsync("gen /after 500 5");
        await Eventually.WaitAsync(async () => (await storage.StatusAsync())["records"] == 1, TimeSpan.FromSeconds(10), "the storage peer keeps the new record", () => storage.Log);
        HostedFullNode late = await HostedFullNode.StartAsync("C", cluster.NetworkSecret, cluster.VolumeSecret, 3, null, storage.Address);
        using (late)
        {
            await Eventually.WaitAsync(async () => await TryAsync(() => late.RunAsync("check /after 500 5")), TimeSpan.FromSeconds(20), "a member joining through the storage peer reads /after",
                () => late.Log + storage.Log);
        }

        await b.RunAsync("sync");
        Assert.DoesNotContain("did not answer request type 120", AllOf(b) + AllOf(a), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unread_requests_and_idle_sockets_leave_a_real_peer_a_fast_handshake_and_the_node_bounded()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(1);
        HostedFullNode victim = cluster[0];
        await victim.RunAsync("gen /data 8388608 3");
        string[] chunkIds = [.. await victim.ChunksAsync()];
        long rssBefore = (await victim.StatusAsync())["rss"];

        // 100 GetChunk requests on one session that never reads a byte of the replies (pinging, so it is not dropped as dead).
        await using SslStream unread = await HostilePeer.RawSessionAsync(victim.Address, cluster.NetworkSecret);
        for (int i = 0; i < 100; i++)
        {
            var ids = new ChunkIds { Ids = ByteString.CopyFrom(Convert.FromHexString(chunkIds[i % chunkIds.Length])) };
            await unread.WriteAsync(HostilePeer.Frame(new Envelope { RequestId = (ulong)i + 1, Type = NodeMessageType.GetChunk, Body = ids.ToByteString() }), Cancel);
        }

        await unread.FlushAsync(Cancel);
        using var stopPinging = new CancellationTokenSource();
        Task pinging = PingAsync(unread, stopPinging.Token);

        // 64 sockets from another host (127.0.0.2) that connect and say nothing.
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < 64; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(IPEndPoint.Parse(victim.Address), Cancel);
                idle.Add(socket);
            }

            await using var real = new PeerNetwork(NodeIdentity.CreateEphemeral(), cluster.NetworkSecret, FastPeerOptions.Create());
            var times = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                PeerConnection connection = await real.ConnectAsync(victim.Address, Cancel);
                times.Add(clock.Elapsed.TotalMilliseconds);
                await connection.CloseAsync("measured");
            }

            long rss = (await victim.StatusAsync())["rss"];
            TestContext.Current.TestOutputHelper?.WriteLine($"real handshakes under attack: {string.Join(", ", times.Select(t => $"{t:F0} ms"))}; victim peak RSS {rssBefore / 1024} -> {rss / 1024} MiB");
            Assert.All(times, t => Assert.True(t < 1000, $"a real peer's handshake took {t:F0} ms"));
            Assert.True(rss < 200 * 1024, $"the node's peak RSS reached {rss / 1024} MiB");
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
            await stopPinging.CancelAsync();
            await pinging;
        }

        Assert.Contains("handshakes from this address are already in progress", AllOf(victim), StringComparison.Ordinal);
        await victim.RunAsync("check /data 8388608 3");
    }

    [Fact]
    public async Task A_gossiped_list_of_200_addresses_starts_a_bounded_number_of_dialers()
    {
        using HostedFullNodeCluster cluster = await HostedFullNodeCluster.StartAsync(2);
        HostedFullNode victim = cluster[0];
        await using var attacker = new HostilePeer(cluster.NetworkSecret);
        PeerConnection toVictim = await attacker.ConnectAsync(victim.Address);
        var list = new PeerList();
        for (int i = 0; i < 200; i++)
        {
            // Loopback ports nobody listens on: every dial fails at once and is tried again.
            list.Peers.Add(new PeerAddress { NodeId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Address = $"127.0.0.1:{1 + i}" });
        }

        long most = 0;
        for (int round = 0; round < 10; round++)
        {
            await toVictim.SendAsync(MessageType.Peers, list, Cancel);
            await victim.RunAsync("sync");
            Dictionary<string, long> status = await victim.StatusAsync();
            most = Math.Max(most, status["dialing"] - status["peers"]); // a connected peer's address keeps a dialer too (to reconnect)
        }

        Assert.True(most <= new PeerOptions().MaxGossipDialers, $"{most} dialers to gossiped addresses ran at once");
        Assert.True(most > 0, "no gossiped address was dialed at all");
        await victim.RunAsync("gen /still 100 1");
        await cluster[1].RunAsync("sync");
        await Eventually.WaitAsync(async () => await TryAsync(() => cluster[1].RunAsync("check /still 100 1")), TimeSpan.FromSeconds(10), "the other node still syncs");
    }

    [Fact]
    public async Task A_storage_peer_stores_no_more_for_others_than_its_quota()
    {
        await using var cluster = new NodeCluster();
        const long Quota = 2_500_000;
        NexNetNode storage = cluster.Add(member: false, configure: o => o.StorageQuota = Quota);
        Assert.Equal(Quota, storage.Status().StorageQuota);
        await using var attacker = new HostilePeer(cluster.NetworkSecret);
        PeerConnection toStorage = await attacker.ConnectAsync(storage.Address);
        int refused = 0;
        for (int i = 0; i < 6; i++)
        {
            var id = ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32));
            byte[] junk = HostilePeer.JunkBlob(36 + 1_000_000);
            try
            {
                await using PeerResponse _ = await toStorage.RequestAsync(NodeMessageType.PutChunks, ReadOnlyMemory<byte>.Empty,
                    (stream, ct) => BlobTransfer.SendAsync(id, junk, stream, ct).AsTask(), cancellationToken: Cancel);
            }
            catch (PeerRequestException e) when (e.Message.Contains("quota", StringComparison.Ordinal))
            {
                refused++;
            }
        }

        NodeStatus status = storage.Status();
        Assert.Equal(3, status.Blobs); // each push is checked as it starts: the third passes the quota by its own size, no more
        Assert.Equal(3, refused);
        Assert.True(status.BlobBytes < Quota + 1_100_000, $"{status.BlobBytes} bytes stored");
        Assert.Contains(cluster.Logs[0].Lines, l => l.Contains("storage quota", StringComparison.Ordinal));
    }

    /// <summary>Pushes what a member whose clock reads <paramref name="stamped"/> would send for a one-byte file: sealed and signed with the real keys.</summary>
    private static async Task PushMemberRecordAsync(PeerConnection to, byte[] volumeSecret, NodeId origin, string path, DateTimeOffset stamped, byte[] contents)
    {
        using VolumeKeys keys = VolumeKeys.Derive(volumeSecret);
        using var sealer = new RecordSealer(keys);
        using VolumeSigner signer = VolumeSigner.Create(keys);
        long clock = stamped.ToUnixTimeMilliseconds() << 16;
        byte[] key = sealer.RecordKey(path), originBytes = origin.ToBytes();
        byte[] clockBytes = [.. BitConverter.GetBytes(clock).Reverse()];
        byte[] body = sealer.Seal([.. key, .. clockBytes, .. originBytes],
            new Entry { Path = path, Kind = Entry.Types.Kind.File, Size = (ulong)contents.Length, InlineData = ByteString.CopyFrom(contents) }.ToByteArray());
        var batch = new RecordBatch();
        batch.Records.Add(new SealedRecord
        {
            Key = ByteString.CopyFrom(key),
            Clock = (ulong)clock,
            Origin = ByteString.CopyFrom(originBytes),
            Body = ByteString.CopyFrom(body),
            Signature = ByteString.CopyFrom(signer.Sign(SignatureDomain.Record, key, clockBytes, originBytes, body)),
        });
        await to.SendAsync(NodeMessageType.RecordPush, batch.ToByteArray(), Cancel);
    }

    private static async Task PingAsync(Stream session, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await session.WriteAsync(HostilePeer.Frame(new Envelope { Type = MessageType.Ping, Body = ByteString.CopyFrom(new byte[8]) }), stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Stopped, or the node closed the session (it may: the session reads nothing).
        }
    }

    /// <summary>Every line a node process has written so far (its <c>Log</c> keeps only the last 200, for failure messages).</summary>
    private static string AllOf(HostedFullNode node) => string.Join('\n', node.Process.Lines);

    /// <summary>The sum of the numbers that follow <paramref name="prefix"/> in the log's lines ("... replaces 2 copies ...").</summary>
    private static int Counted(string log, string prefix) =>
        System.Text.RegularExpressions.Regex.Matches(log, System.Text.RegularExpressions.Regex.Escape(prefix) + "([0-9]+) ")
            .Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    private static string BlobPath(HostedFullNode node, ChunkId id)
    {
        string hex = id.ToString();
        return Path.Combine(node.Dir.Path, "blobs", hex[..2], hex[2..4], hex);
    }

    private static async Task<bool> TryAsync(Func<Task> action)
    {
        try
        {
            await action();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
