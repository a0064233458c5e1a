using System.Collections.Concurrent;
using Google.Protobuf;

namespace NexNet.Node.Sync;

/// <summary>
/// Keeps every node's records the same. Push (<see cref="RecordBroadcast"/>): a local change goes to every connected peer at once.
/// Anti-entropy: on connecting, and then on a timer, this node asks each peer for the records it
/// stored after the last sequence number read from it, in bounded batches, moving its cursor in the
/// same transaction as the records; so a node back from a week away, or new, catches up completely,
/// and a storage peer relays records it cannot read.
/// </summary>
internal sealed class TreeSync : IAsyncDisposable
{
    private readonly PeerNetwork _network;
    private readonly Tree _tree;
    private readonly NodeStore _meta;
    private readonly TimeSpan _interval;
    private readonly ConflictCopies? _conflicts;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<NodeId, SemaphoreSlim> _pulling = new();
    private readonly ConcurrentDictionary<NodeId, DateTimeOffset> _caughtUp = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    /// <summary>A member passes <paramref name="conflicts"/> to keep the losing side of each conflict as a copy (a storage peer cannot read records).</summary>
    public TreeSync(PeerNetwork network, Tree tree, NodeStore meta, TimeSpan interval, ConflictCopies? conflicts, ILogger log)
    {
        _network = network;
        _tree = tree;
        _meta = meta;
        _interval = interval;
        _conflicts = conflicts;
        _log = log;
        network.Handle(NodeMessageType.RecordsAfter, AnswerAsync);
        network.OnMessage(NodeMessageType.RecordPush, OnPush);
        network.PeerConnected += peer => _ = PullAsync(peer.RemoteId);
        _loop = Task.Run(LoopAsync);
    }

    private Task<PeerReply> AnswerAsync(PeerRequest request, CancellationToken cancellationToken)
    {
        long after = (long)RecordsAfter.Parser.ParseFrom(request.Body.Span).Seq;
        return Task.FromResult(new PeerReply(_tree.RecordsAfter(after).ToByteArray()));
    }

    private void OnPush(PeerConnection from, ReadOnlyMemory<byte> body)
    {
        RecordBatch batch;
        try
        {
            batch = RecordBatch.Parser.ParseFrom(body.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            Log.RecordRejected(_log, from.RemoteId.Abbreviated, $"an unreadable record push ({e.Message})");
            return;
        }

        Apply(batch.Records, from, cursorOf: null, cursor: 0);
    }

    private void Apply(IEnumerable<SealedRecord> records, PeerConnection from, NodeId? cursorOf, long cursor)
    {
        (_, IReadOnlyList<EntryInfo> conflicts) = _tree.Apply(records, from, cursorOf, cursor);
        _conflicts?.Keep(conflicts);
    }

    /// <summary>Reads everything <paramref name="peer"/> stored since this node last asked. One pull per peer at a time.</summary>
    public async Task PullAsync(NodeId peer, CancellationToken cancellationToken = default)
    {
        if (!_tree.KeepsRecords)
        {
            return; // a storage peer without the volume public key: its cursors wait for the key (and nothing it read would be kept)
        }

        SemaphoreSlim gate = _pulling.GetOrAdd(peer, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            while (_network.Find(peer) is { } connection)
            {
                long cursor = _meta.SyncCursor(peer);
                PeerResponse response = await connection.RequestAsync(NodeMessageType.RecordsAfter, new RecordsAfter { Seq = (ulong)cursor }.ToByteArray(),
                    cancellationToken: cancellationToken);
                RecordBatch batch;
                await using (response)
                {
                    batch = RecordBatch.Parser.ParseFrom(response.Body.Span);
                }

                Apply(batch.Records, connection, peer, (long)batch.LastSeq);
                if (!batch.More || (long)batch.LastSeq <= cursor)
                {
                    _caughtUp[peer] = DateTimeOffset.UtcNow;
                    break;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.SyncFailed(_log, peer.Abbreviated, e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>When this node last had every record <paramref name="peer"/> stored (null: not yet since start).</summary>
    public DateTimeOffset? CaughtUpWith(NodeId peer) => _caughtUp.TryGetValue(peer, out DateTimeOffset at) ? at : null;

    /// <summary>Pulls from every connected peer now.</summary>
    public Task PullAllAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_network.Peers.Select(p => PullAsync(p.RemoteId, cancellationToken)));

    private Task LoopAsync() => PeriodicLoop.RunAsync(_interval, async stopping =>
    {
        await PullAllAsync(stopping);
        _conflicts?.Keep(_tree.ApplyEarly());
    }, e => Log.LoopFailed(_log, "anti-entropy round", e.Message), _stopping.Token);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
