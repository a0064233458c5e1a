using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.Crypto;
using NexNet.Node.Protocol;
using NexNet.Node.Replication;
using NexNet.P2P;

namespace NexNet.UnitTests.Node;

/// <summary>A storage peer acts on a collect notice only when the volume key signed it, it is recent, and it is new.</summary>
public sealed class SignedNoticesTests : IDisposable
{
    private static readonly DateTimeOffset s_now = new(2027, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly VolumeSigner _signer;
    private readonly VolumeVerifier _verifier;
    private readonly ChunkId[] _ids = [ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32)), ChunkId.FromBytes(RandomNumberGenerator.GetBytes(32))];

    public SignedNoticesTests()
    {
        using VolumeKeys keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        _signer = VolumeSigner.Create(keys);
        _verifier = new VolumeVerifier(_signer.PublicKey);
    }

    private SignedNotices Receiver() => new(_verifier, TimeSpan.FromMinutes(10), () => s_now);

    [Fact]
    public void A_signed_recent_notice_is_acted_on_once()
    {
        SignedNotices receiver = Receiver();
        byte[] notice = SignedNotices.MakeCollect(_signer, _ids, s_now.AddMinutes(-9));
        Assert.Equal(_ids, receiver.AcceptCollect(notice, out string? problem));
        Assert.Null(problem);
        Assert.Null(receiver.AcceptCollect(notice, out problem));
        Assert.Contains("replayed", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notice_from_a_holder_of_the_network_key_alone_is_refused()
    {
        // What such a peer can make: the old unsigned id list, or a notice signed by a key of its own.
        byte[] unsigned = new ChunkIds { Ids = ByteString.CopyFrom([.. _ids.SelectMany(i => i.ToBytes())]) }.ToByteArray();
        using VolumeKeys otherKeys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
        using VolumeSigner forger = VolumeSigner.Create(otherKeys);
        SignedNotices receiver = Receiver();
        Assert.Null(receiver.AcceptCollect(unsigned, out _));
        Assert.Null(receiver.AcceptCollect(SignedNotices.MakeCollect(forger, _ids, s_now), out string? problem));
        Assert.Contains("did not sign", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notice_moved_to_other_ids_or_another_time_fails_its_signature()
    {
        CollectNotice notice = CollectNotice.Parser.ParseFrom(SignedNotices.MakeCollect(_signer, _ids, s_now));
        CollectNotice otherIds = notice.Clone();
        otherIds.Ids = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32));
        CollectNotice otherTime = notice.Clone();
        otherTime.TimeMs += 1;
        SignedNotices receiver = Receiver();
        Assert.Null(receiver.AcceptCollect(otherIds.ToByteArray(), out _));
        Assert.Null(receiver.AcceptCollect(otherTime.ToByteArray(), out _));
        Assert.NotNull(receiver.AcceptCollect(notice.ToByteArray(), out _));
    }

    [Fact]
    public void An_old_or_future_notice_is_refused_even_when_signed()
    {
        SignedNotices receiver = Receiver();
        Assert.Null(receiver.AcceptCollect(SignedNotices.MakeCollect(_signer, _ids, s_now.AddMinutes(-11)), out string? problem));
        Assert.Contains("outside", problem, StringComparison.Ordinal);
        Assert.Null(receiver.AcceptCollect(SignedNotices.MakeCollect(_signer, _ids, s_now.AddMinutes(11)), out _));
    }

    [Fact]
    public void A_storage_peer_without_the_volume_public_key_acts_on_no_notice()
    {
        var receiver = new SignedNotices(null, TimeSpan.FromMinutes(10), () => s_now);
        Assert.Null(receiver.AcceptCollect(SignedNotices.MakeCollect(_signer, _ids, s_now), out string? problem));
        Assert.Contains("volume.pub", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_replace_notice_is_acted_on_only_by_the_node_it_names_and_once()
    {
        NodeId target = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32)), other = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        byte[] notice = SignedNotices.MakeReplace(_signer, target, [(_ids[0], digest)], s_now);
        SignedNotices receiver = Receiver();
        Assert.Null(receiver.AcceptReplace(notice, other, out string? problem)); // replayed to another storage peer
        Assert.Contains("another node", problem, StringComparison.Ordinal);
        IReadOnlyDictionary<ChunkId, byte[]> digests = receiver.AcceptReplace(notice, target, out _)!;
        Assert.Equal(digest, digests[_ids[0]]);
        Assert.Null(receiver.AcceptReplace(notice, target, out problem));
        Assert.Contains("replayed", problem, StringComparison.Ordinal);

        ReplaceNotice moved = ReplaceNotice.Parser.ParseFrom(SignedNotices.MakeReplace(_signer, target, [(_ids[0], digest)], s_now));
        moved.Target = ByteString.CopyFrom(other.ToBytes()); // retargeted: its signature no longer holds
        Assert.Null(Receiver().AcceptReplace(moved.ToByteArray(), other, out problem));
        Assert.Contains("did not sign", problem, StringComparison.Ordinal);
        ReplaceNotice swapped = ReplaceNotice.Parser.ParseFrom(SignedNotices.MakeReplace(_signer, target, [(_ids[0], digest)], s_now));
        swapped.Digests = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)); // another blob in its place
        Assert.Null(Receiver().AcceptReplace(swapped.ToByteArray(), target, out _));
    }

    public void Dispose()
    {
        _signer.Dispose();
        _verifier.Dispose();
    }
}
