using System.Security.Cryptography;
using Google.Protobuf;

namespace NexNet.Node.Replication;

/// <summary>
/// The serving side of chunks: answers peers asking what this node has, storing what they push, and
/// sending what they fetch. A member checks a pushed blob's header tag before keeping it and its contents
/// later (<see cref="ReplicaVerifier"/>); a storage peer, which cannot, checks its structure. Storage
/// peers also drop chunks a member collected.
/// </summary>
internal sealed class ChunkService
{
    /// <summary>The most ids one HasChunks or CollectChunks message may carry.</summary>
    public const int MaxIdsPerMessage = 4096;

    /// <summary>
    /// What a push refused for want of room says (a full disk, or a storage peer's quota): the pusher
    /// places those chunks on another owner for a while instead of retrying here (and strikes nobody).
    /// </summary>
    public const string NoSpace = "no space for chunks here";

    /// <summary>True when a push's error says the peer had no room (see <see cref="NoSpace"/>).</summary>
    public static bool IsNoSpace(string error) => error.Contains(NoSpace, StringComparison.Ordinal);

    private readonly BlobStore _blobs;
    private readonly NodeStore _meta;
    private readonly BlobTransfer _transfer;
    private readonly BlobCheck _check;
    private readonly bool _isMember;
    private readonly ReplicaVerifier? _verifier;
    private readonly SignedNotices _notices;
    private readonly long _quota;
    private readonly TimeSpan _collectDelay;
    private readonly NodeId _self;
    private readonly ILogger _log;

    /// <summary>Serves chunk requests on <paramref name="network"/>; a member passes its <paramref name="verifier"/>, which checks pushed blobs on arrival and in full later.</summary>
    /// <paramref name="collectDelay"/>: on a storage peer, how long chunks a collect notice names are kept before they go (the history retention; zero: at once).
    public ChunkService(PeerNetwork network, BlobStore blobs, NodeStore meta, BlobTransfer transfer, BlobCipher? cipher, ReplicaVerifier? verifier,
        SignedNotices notices, long quota, TimeSpan collectDelay, ILogger log)
    {
        _collectDelay = collectDelay;
        _quota = quota;
        _notices = notices;
        _self = network.Id;
        _blobs = blobs;
        _meta = meta;
        _transfer = transfer;
        _verifier = verifier;
        _log = log;
        _check = CheckFor(cipher);
        _isMember = cipher is not null;
        network.Handle(NodeMessageType.HasChunks, HasAsync);
        network.Handle(NodeMessageType.PutChunks, PutAsync);
        network.Handle(NodeMessageType.GetChunk, GetAsync);
        network.Handle(NodeMessageType.ProveChunks, ProveAsync);
        network.Handle(NodeMessageType.ReplaceChunks, ReplaceAsync);
        network.OnMessage(NodeMessageType.CollectChunks, OnCollect);
    }

    /// <summary>How a fetched blob is checked before it is kept: in full with the volume key (on a member it is about to be read), else its structure only.</summary>
    public static BlobCheck CheckFor(BlobCipher? cipher) =>
        cipher is null ? static (_, blob) => BlobFormat.CheckStructure(blob) : (id, blob) => cipher.Verify(blob, id);

    private Task<PeerReply> HasAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        IReadOnlyList<ChunkId> ids = ParseIds(request.Body);
        byte[] bits = new byte[(ids.Count + 7) / 8];
        for (int i = 0; i < ids.Count; i++)
        {
            // A chunk waiting out its deferred collection is not counted as held: a member that needs it pushes it again, which keeps it.
            if (_blobs.Has(ids[i]) && (_isMember || _collectDelay <= TimeSpan.Zero || !_meta.IsCollectionDeferred(ids[i])))
            {
                bits[i / 8] |= (byte)(1 << (i % 8));
            }
        }

        return Task.FromResult(new PeerReply(new Presence { Bits = UnsafeByteOperations.UnsafeWrap(bits) }.ToByteArray()));
    }

    private async Task<PeerReply> PutAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        if (request.BodyStream is null)
        {
            throw new InvalidDataException("PutChunks without a body stream");
        }

        if (_quota > 0 && _meta.Blobs.BlobTotals().Bytes >= _quota)
        {
            // Checked as each push starts, so one push may pass the quota by at most its own size.
            Log.QuotaFull(_log, request.From.RemoteId.Abbreviated, _quota);
            throw new InvalidOperationException($"{NoSpace}: this storage peer's quota ({_quota:N0} bytes) is full");
        }

        if (_blobs.Reserve > 0 && _blobs.AvailableBytes() < _transfer.MaxBlobLength)
        {
            await RefuseFullAsync(request, cancellationToken);
        }

        try
        {
            if (_verifier is null)
            {
                _meta.CancelDeferredCollection(await _transfer.ReceiveAsync(request.BodyStream, _check, cancellationToken));
            }
            else
            {
                await _transfer.ReceiveAsync(request.BodyStream, _verifier.CheckOnArrival, _verifier.Arrived, _verifier.Stored, cancellationToken);
            }

            return PeerReply.Empty;
        }
        catch (Exception e) when (e is IntegrityException or InvalidDataException)
        {
            Log.RecordRejected(_log, request.From.RemoteId.Abbreviated, $"chunks that fail their check ({e.Message})");
            throw;
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            await RefuseFullAsync(request, cancellationToken);
            throw; // not reached
        }
    }

    /// <summary>
    /// Refuses a push for want of room: reads the rest of its stream first (the sender waits for the reply
    /// only once it has sent everything, and a stream nobody reads would stall it), then answers <see cref="NoSpace"/>.
    /// </summary>
    private async Task RefuseFullAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        Log.PushRefusedFull(_log, request.From.RemoteId.Abbreviated, _blobs.FreeBytes(), _blobs.Reserve);
        await request.BodyStream!.CopyToAsync(Stream.Null, cancellationToken);
        throw new InvalidOperationException($"{NoSpace}: the disk is full ({_blobs.FreeBytes():N0} bytes free, {_blobs.Reserve:N0} kept for commits and records)");
    }

    private Task<PeerReply> ProveAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        ProofRequest asked;
        try
        {
            asked = ProofRequest.Parser.ParseFrom(request.Body.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"not a proof request: {e.Message}", e);
        }

        if (asked.Ids.Length > MaxIdsPerMessage * ChunkId.Size || asked.Ids.Length % ChunkId.Size != 0)
        {
            throw new InvalidDataException($"a proof request asks for at most {MaxIdsPerMessage} whole chunk ids");
        }

        return Task.FromResult(new PeerReply(PossessionProof.Answer(_blobs, EntryCodec.UnpackIds(asked.Ids.Span), asked.Nonce.Span).ToByteArray()));
    }

    /// <summary>
    /// A member found copies here bad (they failed a proof of possession) and sends the right blobs with a
    /// signed notice of their digests: the bad copies go, and each blob that arrives is kept only if it is
    /// one the notice names with the digest it gives. A member checks them in full besides.
    /// </summary>
    private async Task<PeerReply> ReplaceAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        if (request.BodyStream is null)
        {
            throw new InvalidDataException("ReplaceChunks without a body stream");
        }

        if (_notices.AcceptReplace(request.Body, _self, out string? problem) is not { } digests)
        {
            Log.RecordRejected(_log, request.From.RemoteId.Abbreviated, problem!);
            throw new InvalidDataException($"refused: {problem}");
        }

        // A copy goes only once the blob that takes its place has arrived and is the one the notice names.
        int replaced = 0;
        BlobCheck check = (id, blob) =>
        {
            if (!digests.TryGetValue(id, out byte[]? digest) || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(blob), digest))
            {
                throw new IntegrityException($"blob {id} is not one the replace notice names");
            }

            _check(id, blob);
            _blobs.Delete(id, _meta.Blobs);
            replaced++;
        };
        await _transfer.ReceiveAsync(request.BodyStream, check, cancellationToken);
        Log.CopiesReplaced(_log, request.From.RemoteId.Abbreviated, replaced);
        return PeerReply.Empty;
    }

    private Task<PeerReply> GetAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        IReadOnlyList<ChunkId> ids = ParseIds(request.Body);
        if (ids.Count != 1)
        {
            throw new InvalidDataException($"GetChunk asks for exactly one chunk, not {ids.Count}");
        }

        ChunkId id = ids[0];
        if (!_blobs.Has(id))
        {
            throw new BlobNotFoundException(id);
        }

        return Task.FromResult(new PeerReply(ReadOnlyMemory<byte>.Empty, async (stream, ct) =>
        {
            if ((await _transfer.SendAsync([id], stream, ct)).Count == 0)
            {
                throw new BlobNotFoundException(id);
            }
        }));
    }

    private void OnCollect(PeerConnection from, ReadOnlyMemory<byte> body)
    {
        if (_isMember)
        {
            return; // members decide what is garbage from their own tree
        }

        if (_notices.AcceptCollect(body, out string? problem) is not { } ids)
        {
            Log.RecordRejected(_log, from.RemoteId.Abbreviated, problem!);
            return;
        }

        if (_collectDelay > TimeSpan.Zero)
        {
            // Kept for the retention first: no single member's notice removes what history may still need (DeferredCollection).
            _meta.DeferCollection(ids, DateTimeOffset.UtcNow + _collectDelay);
            return;
        }

        Delete(ids);
    }

    /// <summary>Deletes chunks members collected and forgets their replication (a storage peer's part of collection).</summary>
    public void Delete(IReadOnlyList<ChunkId> ids)
    {
        foreach (ChunkId id in ids)
        {
            _blobs.Delete(id, _meta.Blobs);
        }

        _meta.CompleteReplication(ids);
    }

    public static IReadOnlyList<ChunkId> ParseIds(ReadOnlyMemory<byte> body)
    {
        ChunkIds message;
        try
        {
            message = ChunkIds.Parser.ParseFrom(body.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"not a chunk id list: {e.Message}", e);
        }

        if (message.Ids.Length > MaxIdsPerMessage * ChunkId.Size)
        {
            throw new InvalidDataException($"more than {MaxIdsPerMessage} chunk ids in one message");
        }

        return EntryCodec.UnpackIds(message.Ids.Span);
    }

    public static byte[] EncodeIds(IReadOnlyCollection<ChunkId> ids) => new ChunkIds { Ids = EntryCodec.PackIds(ids) }.ToByteArray();
}
