using System.Collections.Concurrent;

namespace NexNet.Node.Replication;

/// <summary>
/// Brings a missing chunk here: asks its owners in rendezvous order, then every other peer; checks the
/// blob against its id before keeping it; keeps it in the local store. Concurrent readers of one missing
/// chunk share one fetch. A peer that serves bad bytes gets a strike and is asked last from then on; no
/// request waits longer than the fetch timeout.
/// </summary>
internal sealed class ChunkFetcher
{
    private readonly PeerNetwork _network;
    private readonly Membership _membership;
    private readonly BlobStore _blobs;
    private readonly BlobTransfer _transfer;
    private readonly BlobCheck _check;
    private readonly int _replicationFactor;
    private readonly TimeSpan _timeout;
    private readonly ILogger _log;
    private readonly CancellationToken _stopping;
    private readonly Dictionary<ChunkId, Task> _fetches = [];
    private readonly ConcurrentDictionary<NodeId, int> _strikes = new();
    private long _fetched;
    private long _rejected;

    public ChunkFetcher(PeerNetwork network, Membership membership, BlobStore blobs, BlobTransfer transfer, BlobCheck check, int replicationFactor,
        TimeSpan timeout, ILogger log, CancellationToken stopping)
    {
        _network = network;
        _membership = membership;
        _blobs = blobs;
        _transfer = transfer;
        _check = check;
        _replicationFactor = replicationFactor;
        _timeout = timeout;
        _log = log;
        _stopping = stopping;
    }

    /// <summary>Chunks fetched from peers since start.</summary>
    public long Fetched => Interlocked.Read(ref _fetched);

    /// <summary>Fetches under way (each chunk at most once, however many readers wait for it).</summary>
    public int InFlight
    {
        get
        {
            lock (_fetches)
            {
                return _fetches.Count;
            }
        }
    }

    /// <summary>Blobs peers served that failed their check, since start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Completes when the chunk is in the local store; throws <see cref="VolumeException"/> (Unavailable) when no peer could give a good copy.</summary>
    public Task EnsureLocalAsync(ChunkId id, CancellationToken cancellationToken)
    {
        if (_blobs.Has(id))
        {
            return Task.CompletedTask;
        }

        Task fetch;
        lock (_fetches)
        {
            if (!_fetches.TryGetValue(id, out fetch!))
            {
                fetch = FetchAsync(id);
                _fetches[id] = fetch;
                _ = fetch.ContinueWith(_ =>
                {
                    lock (_fetches)
                    {
                        _fetches.Remove(id);
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return fetch.WaitAsync(cancellationToken);
    }

    /// <summary>Waits (briefly) for fetches still under way once the node is stopping, so none writes to the store after the node is gone.</summary>
    public async Task DrainAsync()
    {
        Task[] running;
        lock (_fetches)
        {
            running = [.. _fetches.Values];
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Starts fetching a chunk a reader will probably want soon, without waiting for it.</summary>
    public void Prefetch(ChunkId id) =>
        _ = EnsureLocalAsync(id, CancellationToken.None).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    /// <summary>
    /// Gets a good copy of the blob from a peer, as <see cref="EnsureLocalAsync"/> does, but into memory and
    /// not into the store: for a read on a disk with no room left for a copy (it is a cache; the owners
    /// keep theirs). Null when it arrived here meanwhile (read it from the store). Throws
    /// <see cref="VolumeException"/> (Unavailable) when no peer could give a good copy.
    /// </summary>
    public async Task<byte[]?> FetchUnstoredAsync(ChunkId id, CancellationToken cancellationToken)
    {
        byte[]? blob = null;
        await FromPeersAsync(id, async (stream, ct) => (blob = await _transfer.ReceiveUnstoredAsync(stream, id, _check, ct)) is not null, cancellationToken);
        return blob;
    }

    private async Task FetchAsync(ChunkId id)
    {
        await Task.Yield(); // never run a fetch on the caller's stack (nor inside the lock that registers it)
        await FromPeersAsync(id, async (stream, ct) =>
        {
            IReadOnlyList<ChunkId> got = await _transfer.ReceiveAsync(stream, (chunk, blob) =>
            {
                if (chunk != id)
                {
                    throw new IntegrityException($"sent chunk {chunk} instead");
                }

                _check(chunk, blob);
            }, ct);
            return got.Contains(id) && _blobs.Has(id);
        }, CancellationToken.None);
    }

    /// <summary>
    /// Asks the chunk's owners in rendezvous order, then every other peer, until <paramref name="receive"/>
    /// takes a good copy from one's answer; throws Unavailable when none did (unless it is here by now).
    /// </summary>
    private async Task FromPeersAsync(ChunkId id, Func<Stream, CancellationToken, Task<bool>> receive, CancellationToken cancellationToken)
    {
        IReadOnlyList<NodeId> owners = Placement.Owners(id, _membership.Members, _replicationFactor);
        var candidates = owners.Where(o => o != _network.Id)
            .Concat(_network.Peers.Select(p => p.RemoteId).Where(p => !owners.Contains(p)))
            .Select((peer, rank) => (peer, rank))
            .OrderBy(c => _strikes.GetValueOrDefault(c.peer)).ThenBy(c => c.rank)
            .Select(c => c.peer)
            .ToList();
        var tried = new List<string>();
        foreach (NodeId peer in candidates)
        {
            if (_network.Find(peer) is null)
            {
                continue;
            }

            tried.Add(peer.Abbreviated);
            if (await TryFetchFromAsync(id, peer, receive, cancellationToken))
            {
                Interlocked.Increment(ref _fetched);
                return;
            }
        }

        if (_blobs.Has(id))
        {
            return; // arrived another way meanwhile (a push from its writer)
        }

        throw new VolumeException(VolumeError.Unavailable,
            tried.Count == 0 ? $"chunk {id} is not here and no peer is connected" : $"chunk {id} is not here and no peer had a good copy (asked {string.Join(", ", tried)})");
    }

    private async Task<bool> TryFetchFromAsync(ChunkId id, NodeId peer, Func<Stream, CancellationToken, Task<bool>> receive, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping, cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            await using PeerResponse response = await _network.RequestAsync(peer, NodeMessageType.GetChunk, ChunkService.EncodeIds([id]), timeout: _timeout, cancellationToken: deadline.Token);
            if (response.BodyStream is null)
            {
                throw new InvalidDataException("answered without the blob");
            }

            return await receive(response.BodyStream, deadline.Token);
        }
        catch (Exception e) when (e is IntegrityException or InvalidDataException)
        {
            Interlocked.Increment(ref _rejected);
            _strikes.AddOrUpdate(peer, 1, (_, n) => n + 1);
            Log.BadChunk(_log, peer.Abbreviated, id, e.Message);
            return false;
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Log.FetchTimedOut(_log, id, peer.Abbreviated, _timeout.TotalSeconds);
            return false;
        }
        catch (Exception e) when (e is IOException or TimeoutException or PeerRequestException or ObjectDisposedException)
        {
            Log.FetchFailed(_log, id, peer.Abbreviated, e.Message);
            return false;
        }
    }
}
