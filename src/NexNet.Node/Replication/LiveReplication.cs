using System.Collections.Concurrent;

namespace NexNet.Node.Replication;

/// <summary>
/// One write's replicas on the move: as the writer seals each chunk, the same bytes go to the chunk's
/// other owners over one streamed request per owner (read once, write to many). An owner that fails or
/// is unreachable is left out for the rest of the write and nothing else is disturbed: the durable queue
/// still holds every chunk, and <see cref="CompleteAsync"/> reports only the chunks every owner
/// confirmed, so only those leave the queue.
/// </summary>
internal sealed class LiveReplication
{
    private static readonly TimeSpan s_sessionTimeout = TimeSpan.FromHours(12); // a dead peer ends it sooner: its connection closes

    private readonly PeerNetwork _network;
    private readonly IReadOnlyList<NodeId> _members;
    private readonly int _replicationFactor;
    private readonly ConcurrentDictionary<ChunkId, byte> _inFlight;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<NodeId, OwnerSession> _sessions = new();
    private readonly ConcurrentDictionary<ChunkId, NodeId[]> _owners = new();

    public LiveReplication(PeerNetwork network, IReadOnlyList<NodeId> members, int replicationFactor, ConcurrentDictionary<ChunkId, byte> inFlight, ILogger log)
    {
        _network = network;
        _members = members;
        _replicationFactor = replicationFactor;
        _inFlight = inFlight;
        _log = log;
    }

    public async ValueTask SendAsync(ChunkId id, ReadOnlyMemory<byte> sealedBlob, CancellationToken cancellationToken)
    {
        NodeId[] owners = [.. Placement.Owners(id, _members, _replicationFactor).Where(o => o != _network.Id)];
        _owners[id] = owners;
        _inFlight.TryAdd(id, 0);
        foreach (NodeId owner in owners)
        {
            OwnerSession? session = _sessions.GetOrAdd(owner, Open);
            if (session.Failed)
            {
                continue;
            }

            await session.Gate.WaitAsync(cancellationToken);
            try
            {
                // An owner that answered with an error (a full disk, say) reads no more: stop writing to it at once.
                using var send = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Aborted.Token);
                Stream stream = await session.Stream.Task.WaitAsync(send.Token);
                await BlobTransfer.SendAsync(id, sealedBlob, stream, send.Token);
                session.Sent.Add(id);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                session.Fail(e, _log);
            }
            finally
            {
                session.Gate.Release();
            }
        }
    }

    private OwnerSession Open(NodeId owner)
    {
        var session = new OwnerSession(owner);
        if (_network.Find(owner) is null)
        {
            session.Fail(new IOException("not connected"), _log);
            return session;
        }

        session.Response = _network.RequestAsync(owner, NodeMessageType.PutChunks, ReadOnlyMemory<byte>.Empty, async (stream, ct) =>
        {
            session.Stream.TrySetResult(stream);
            await session.Done.Task.WaitAsync(ct);
        }, s_sessionTimeout);
        _ = session.Response.ContinueWith(t =>
        {
            Exception reason = t.Exception?.GetBaseException() ?? new IOException("request ended");
            session.Stream.TrySetException(reason);
            session.Fail(reason, _log);
            session.Aborted.Cancel();
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return session;
    }

    /// <summary>Ends every owner's stream (no more chunks will be sent): each owner starts making what it got durable.</summary>
    public void EndStreams()
    {
        foreach (OwnerSession session in _sessions.Values)
        {
            session.Done.TrySetResult();
        }
    }

    /// <summary>Ends every owner's stream, waits for the owners to make what they got durable, and returns the chunks every owner confirmed.</summary>
    public async Task<IReadOnlyList<ChunkId>> CompleteAsync()
    {
        EndStreams();
        var confirmedBy = new Dictionary<NodeId, HashSet<ChunkId>>();
        foreach (OwnerSession session in _sessions.Values)
        {
            if (session.Response is null || session.Failed)
            {
                continue;
            }

            try
            {
                await using PeerResponse _ = await session.Response;
                confirmedBy[session.Owner] = [.. session.Sent];
            }
            catch (Exception e) when (e is IOException or TimeoutException or PeerRequestException or OperationCanceledException or ObjectDisposedException)
            {
                session.Fail(e, _log);
            }
        }

        var confirmed = new List<ChunkId>();
        foreach ((ChunkId id, NodeId[] owners) in _owners)
        {
            if (owners.All(o => confirmedBy.TryGetValue(o, out HashSet<ChunkId>? got) && got.Contains(id)))
            {
                confirmed.Add(id);
            }

            _inFlight.TryRemove(id, out _);
        }

        return confirmed;
    }

    private sealed class OwnerSession(NodeId owner)
    {
        private int _failed;

        public NodeId Owner { get; } = owner;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public TaskCompletionSource<Stream> Stream { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancelled when the owner's request failed: writes still under way to it end.</summary>
        public CancellationTokenSource Aborted { get; } = new();

        public Task<PeerResponse>? Response { get; set; }

        public ConcurrentBag<ChunkId> Sent { get; } = [];

        public bool Failed => Volatile.Read(ref _failed) != 0;

        public void Fail(Exception reason, ILogger log)
        {
            if (Interlocked.Exchange(ref _failed, 1) == 0)
            {
                Log.ReplicationFailed(log, Owner.Abbreviated, reason.Message);
                Done.TrySetResult();
            }
        }
    }
}
