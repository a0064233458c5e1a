using System.Collections.Concurrent;
using Google.Protobuf;

namespace NexNet.Node.Replication;

/// <summary>
/// Works the durable replication queue until every queued chunk is held by all its owners: asks each
/// owner which of a batch it has, pushes the missing ones from the local store in one stream per owner,
/// and takes a chunk off the queue once every owner has confirmed it. Chunks whose owners cannot be
/// reached are tried again later. Repair is the same queue: when the member set changes, every chunk
/// this node holds is queued again, so chunks of a node that is gone get new owners filled.
/// </summary>
internal sealed class Replicator : IAsyncDisposable
{
    private const int BatchSize = 512;

    private readonly PeerNetwork _network;
    private readonly Membership _membership;
    private readonly NodeStore _meta;
    private readonly BlobStore _blobs;
    private readonly BlobTransfer _transfer;
    private readonly int _replicationFactor;
    private readonly TimeSpan _retryAfter;
    private readonly ILogger _log;
    private readonly BlobCipher? _cipher;
    private readonly VolumeSigner? _signer;
    private readonly ConcurrentDictionary<ChunkId, byte> _inFlight = new();

    /// <summary>Peers that answered a proof request as unknown (an older build): asked, not proven, from then on.</summary>
    private readonly ConcurrentDictionary<NodeId, byte> _cannotProve = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly Timer _repairDebounce;

    /// <summary>
    /// A member passes its <paramref name="cipher"/> and <paramref name="signer"/>: it then asks owners to
    /// prove what they hold (<see cref="PossessionProof"/>) instead of taking their word, and replaces copies
    /// that fail. A storage peer, which can check no proof, asks.
    /// </summary>
    public Replicator(PeerNetwork network, Membership membership, NodeStore meta, BlobStore blobs, BlobTransfer transfer, int replicationFactor,
        TimeSpan retryAfter, BlobCipher? cipher, VolumeSigner? signer, ILogger log)
    {
        _cipher = cipher;
        _signer = signer;
        _network = network;
        _membership = membership;
        _meta = meta;
        _blobs = blobs;
        _transfer = transfer;
        _replicationFactor = replicationFactor;
        _retryAfter = retryAfter;
        _log = log;
        _repairDebounce = new Timer(_ => Repair());
        membership.Changed += () => _repairDebounce.Change(TimeSpan.FromMilliseconds(300), Timeout.InfiniteTimeSpan);
        network.PeerConnected += _ => Kick();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Chunks (and bytes) still waiting for copies.</summary>
    public (long Chunks, long Bytes) Backlog => _meta.ReplicationBacklog();

    /// <summary>Starts streaming a write's chunks to their owners as they are sealed.</summary>
    public LiveReplication BeginLive() => new(_network, _membership.PlacementMembers, _replicationFactor, _inFlight, _log);

    /// <summary>Wakes the queue worker now instead of at its next tick.</summary>
    public void Kick()
    {
        if (_wake.CurrentCount > 0)
        {
            return; // already woken (and throwing SemaphoreFullException per small file cost measurable time)
        }

        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Lost a race with another kick: woken either way.
        }
        catch (ObjectDisposedException)
        {
            // Stopped: a last batch of commits reached the queue as the node shut down; the next start sends it.
        }
    }

    /// <summary>Queues every chunk held here again (the member set changed, so owners may have).</summary>
    public void Repair()
    {
        _meta.EnqueueAllBlobsForReplication(DateTimeOffset.UtcNow);
        Kick();
    }

    /// <summary>How long a kicked pass waits for more writes to join it (a tar of small files commits thousands a second).</summary>
    private static readonly TimeSpan s_burstDelay = TimeSpan.FromMilliseconds(20);

    private async Task LoopAsync()
    {
        CancellationToken stop = _stopping.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                bool more = await RunOnceAsync(stop);
                if (!more && await _wake.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(_retryAfter.TotalMilliseconds, 1000)), stop))
                {
                    // Woken by a write: let a burst of small writes gather so one pass takes them all.
                    await Task.Delay(s_burstDelay, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                // Whatever went wrong, the queue is durable: say so once and try again, never stop replicating.
                Log.LoopFailed(_log, "the replication queue", e.Message);
                await Task.Delay(_retryAfter, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>One pass over the due part of the queue. Returns true when a full batch was handled (more may be due).</summary>
    internal async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        ChunkId[] due = [.. _meta.DueReplication(now, BatchSize).Where(id => !_inFlight.ContainsKey(id))];
        if (due.Length == 0)
        {
            return false;
        }

        IReadOnlyList<NodeId> members = _membership.PlacementMembers;
        var done = new List<ChunkId>();
        var wanted = new Dictionary<NodeId, List<ChunkId>>();
        var owners = new Dictionary<ChunkId, NodeId[]>();
        foreach (ChunkId id in due)
        {
            if (!_blobs.Has(id))
            {
                done.Add(id); // nothing here to give (collected or dropped since it was queued)
                continue;
            }

            NodeId[] remote = [.. Placement.Owners(id, members, _replicationFactor).Where(o => o != _network.Id)];
            owners[id] = remote;
            foreach (NodeId owner in remote)
            {
                (wanted.TryGetValue(owner, out List<ChunkId>? list) ? list : wanted[owner] = []).Add(id);
            }
        }

        // Ask every owner at once what it lacks, then push the missing chunks, one stream per owner.
        var holds = new ConcurrentDictionary<(NodeId, ChunkId), byte>();
        await Task.WhenAll(wanted.Select(pair => FillOwnerAsync(pair.Key, pair.Value, holds, cancellationToken)));

        var deferred = new List<ChunkId>();
        foreach ((ChunkId id, NodeId[] remote) in owners)
        {
            (remote.All(o => holds.ContainsKey((o, id))) ? done : deferred).Add(id);
        }

        // Losing these updates to a power cut only means sending a chunk its owners already have again.
        _meta.CompleteReplication(done, Durability.Relaxed);
        _meta.DeferReplication(deferred, DateTimeOffset.UtcNow + _retryAfter, Durability.Relaxed);

        return due.Length == BatchSize && deferred.Count < due.Length;
    }

    private async Task FillOwnerAsync(NodeId owner, List<ChunkId> ids, ConcurrentDictionary<(NodeId, ChunkId), byte> holds, CancellationToken cancellationToken)
    {
        if (_network.Find(owner) is null)
        {
            return;
        }

        try
        {
            var missing = new List<ChunkId>();
            var bad = new List<ChunkId>();
            await CheckHeldAsync(owner, ids, holds, missing, bad, cancellationToken);

            if (bad.Count > 0)
            {
                try
                {
                    await ReplaceAsync(owner, bad, holds, cancellationToken);
                }
                catch (PeerRequestException e)
                {
                    Log.ReplaceRefused(_log, owner.Abbreviated, e.Message);
                }
            }

            if (missing.Count == 0)
            {
                return;
            }

            IReadOnlyList<ChunkId> sent = [];
            PeerResponse stored = await _network.RequestAsync(owner, NodeMessageType.PutChunks, ReadOnlyMemory<byte>.Empty,
                async (stream, ct) => sent = await _transfer.SendAsync(missing, stream, ct), TimeSpan.FromMinutes(10), cancellationToken);
            await using (stored)
            {
                foreach (ChunkId id in sent)
                {
                    holds[(owner, id)] = 0;
                }
            }
        }
        catch (PeerRequestException e) when (ChunkService.IsNoSpace(e.Message))
        {
            // Not a fault: it is full. Its chunks go to the next owner from the next pass (these were deferred).
            if (_membership.MarkFull(owner, s_fullFor))
            {
                Log.PeerFull(_log, owner.Abbreviated, s_fullFor.TotalSeconds, e.Message);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or PeerRequestException or InvalidProtocolBufferException or ObjectDisposedException)
        {
            Log.ReplicationFailed(_log, owner.Abbreviated, e.Message);
        }
    }

    /// <summary>
    /// Which of <paramref name="ids"/> at least R connected peers hold now, each copy proven (<see cref="ProveAsync"/>;
    /// a node of an older build, its word). Space pressure drops a copy of history here only then: whatever
    /// placement says, and whatever membership did a moment ago, R copies are known to be elsewhere.
    /// </summary>
    public async Task<IReadOnlySet<ChunkId>> ProvenElsewhereAsync(IReadOnlyList<ChunkId> ids, CancellationToken cancellationToken)
    {
        var holds = new ConcurrentDictionary<(NodeId, ChunkId), byte>();
        NodeId[] peers = [.. _network.Peers.Select(p => p.RemoteId).Distinct()];
        await Task.WhenAll(peers.Select(async peer =>
        {
            try
            {
                await CheckHeldAsync(peer, [.. ids], holds, [], [], cancellationToken);
            }
            catch (Exception e) when (e is IOException or TimeoutException or PeerRequestException or InvalidProtocolBufferException or ObjectDisposedException)
            {
                // Not counted: only copies proven now count.
            }
        }));
        var counts = new Dictionary<ChunkId, int>();
        foreach ((_, ChunkId id) in holds.Keys)
        {
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        return counts.Where(c => c.Value >= _replicationFactor).Select(c => c.Key).ToHashSet();
    }

    /// <summary>
    /// Notes in <paramref name="holds"/> the copies of <paramref name="ids"/> that <paramref name="peer"/> holds: proven
    /// where this node can check a proof, else by its word; <paramref name="missing"/> and <paramref name="bad"/> get the rest.
    /// </summary>
    private async Task CheckHeldAsync(NodeId peer, List<ChunkId> ids, ConcurrentDictionary<(NodeId, ChunkId), byte> holds, List<ChunkId> missing, List<ChunkId> bad,
        CancellationToken cancellationToken)
    {
        if (_cipher is not null && _signer is not null && !_cannotProve.ContainsKey(peer))
        {
            try
            {
                await ProveAsync(peer, ids, holds, missing, bad, cancellationToken);
            }
            catch (PeerRequestException e) when (e.Message.Contains($"unknown request type {NodeMessageType.ProveChunks}", StringComparison.Ordinal))
            {
                // A node of an older build: its word is all there is until it is upgraded.
                _cannotProve[peer] = 0;
                missing.Clear();
                await AskAsync(peer, ids, holds, missing, cancellationToken);
            }
        }
        else
        {
            await AskAsync(peer, ids, holds, missing, cancellationToken);
        }
    }

    /// <summary>How long a node that refused chunks for want of room is left out of placement before it is asked again.</summary>
    private static readonly TimeSpan s_fullFor = TimeSpan.FromMinutes(1);

    /// <summary>Takes the owner's word for what it holds (a storage peer, which can check no proof).</summary>
    private async Task AskAsync(NodeId owner, List<ChunkId> ids, ConcurrentDictionary<(NodeId, ChunkId), byte> holds, List<ChunkId> missing,
        CancellationToken cancellationToken)
    {
        PeerResponse answer = await _network.RequestAsync(owner, NodeMessageType.HasChunks, ChunkService.EncodeIds(ids), cancellationToken: cancellationToken);
        await using (answer)
        {
            ByteString bits = Presence.Parser.ParseFrom(answer.Body.Span).Bits;
            for (int i = 0; i < ids.Count; i++)
            {
                if (i / 8 < bits.Length && (bits[i / 8] & (1 << (i % 8))) != 0)
                {
                    holds[(owner, ids[i])] = 0;
                }
                else
                {
                    missing.Add(ids[i]);
                }
            }
        }
    }

    /// <summary>Asks the owner to prove what it holds; a copy counts only when its proof checks (<see cref="PossessionProof"/>).</summary>
    private async Task ProveAsync(NodeId owner, List<ChunkId> ids, ConcurrentDictionary<(NodeId, ChunkId), byte> holds, List<ChunkId> missing, List<ChunkId> bad,
        CancellationToken cancellationToken)
    {
        byte[] nonce = PossessionProof.NewNonce();
        var request = new ProofRequest { Ids = EntryCodec.PackIds(ids), Nonce = UnsafeByteOperations.UnsafeWrap(nonce) };
        PeerResponse answer = await _network.RequestAsync(owner, NodeMessageType.ProveChunks, request.ToByteArray(), cancellationToken: cancellationToken);
        await using (answer)
        {
            var proofs = ProofReply.Parser.ParseFrom(answer.Body.Span).Proofs;
            for (int i = 0; i < ids.Count; i++)
            {
                ChunkProof? proof = i < proofs.Count ? proofs[i] : null;
                if (proof is not { Present: true })
                {
                    missing.Add(ids[i]);
                }
                else if (PossessionProof.Check(_cipher!, _blobs, ids[i], nonce, proof) is { } proven)
                {
                    if (proven)
                    {
                        holds[(owner, ids[i])] = 0;
                    }
                    else
                    {
                        bad.Add(ids[i]);
                    }
                }

                // No verdict (this node's own copy is not fit to be the reference): not counted, tried again later.
            }
        }

        if (bad.Count > 0)
        {
            Log.ProofFailed(_log, owner.Abbreviated, bad.Count);
        }
    }

    /// <summary>Sends the owner the real blobs of copies that failed their proof, with a signed notice of their digests.</summary>
    private async Task ReplaceAsync(NodeId owner, List<ChunkId> bad, ConcurrentDictionary<(NodeId, ChunkId), byte> holds, CancellationToken cancellationToken)
    {
        // Only a copy that passes the full check here may take the place of another node's.
        var blobs = new List<(ChunkId Id, byte[] Digest)>();
        foreach (ChunkId id in bad)
        {
            try
            {
                byte[] blob = _blobs.ReadAll(id);
                _cipher!.Verify(blob, id);
                blobs.Add((id, System.Security.Cryptography.SHA256.HashData(blob)));
            }
            catch (Exception e) when (e is IntegrityException or BlobNotFoundException)
            {
                Log.LoopFailed(_log, $"replacing chunk {id} at {owner.Abbreviated}", $"this node's own copy is not fit to send ({e.Message})");
            }
        }

        if (blobs.Count == 0)
        {
            return;
        }

        byte[] notice = SignedNotices.MakeReplace(_signer!, owner, blobs, DateTimeOffset.UtcNow);
        IReadOnlyList<ChunkId> sent = [];
        PeerResponse stored = await _network.RequestAsync(owner, NodeMessageType.ReplaceChunks, notice,
            async (stream, ct) => sent = await _transfer.SendAsync([.. blobs.Select(b => b.Id)], stream, ct), TimeSpan.FromMinutes(10), cancellationToken);
        await using (stored)
        {
            foreach (ChunkId id in sent)
            {
                holds[(owner, id)] = 0;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _repairDebounce.DisposeAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        _wake.Dispose();
    }
}
