namespace NexNet.Node.Space;

/// <summary>
/// Deletes chunks no live entry uses once they have been unused for the grace period (a concurrent
/// writer elsewhere may have reused one whose record has not arrived yet, and chunks pushed ahead of
/// their record wait here too). Every member decides from its own tree; storage peers, which cannot
/// read the tree, are told what members collected, in notices the volume key signs (<see cref="SignedNotices"/>).
/// </summary>
internal sealed class Collector : IAsyncDisposable
{
    private const int BatchSize = ChunkService.MaxIdsPerMessage;

    private readonly PeerNetwork _network;
    private readonly NodeStore _meta;
    private readonly BlobStore _blobs;
    private readonly TimeSpan _grace;
    private readonly ChunkHolds _holds;
    private readonly Action _settleTree;
    private readonly CacheEviction _cache;
    private readonly VolumeSigner _signer;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly Lock _lock = new();

    /// <summary>
    /// <paramref name="settleTree"/> brings the chunk references up to date before each collection (the tree's
    /// pending commits); <paramref name="cache"/> evicts after each periodic collection.
    /// </summary>
    public Collector(PeerNetwork network, NodeStore meta, BlobStore blobs, ChunkHolds holds, Action settleTree, CacheEviction cache, VolumeSigner signer,
        TimeSpan grace, TimeSpan interval, ILogger log)
    {
        _signer = signer;
        _cache = cache;
        _settleTree = settleTree;
        _holds = holds;
        _network = network;
        _meta = meta;
        _blobs = blobs;
        _grace = grace;
        _log = log;
        _loop = Task.Run(() => LoopAsync(interval));
    }

    /// <summary>Collects now every chunk unused for at least <paramref name="grace"/> (the configured grace when null). Returns how many.</summary>
    public int Collect(TimeSpan? grace = null)
    {
        int total = 0;
        long bytes = 0;
        lock (_lock)
        {
            _settleTree();
            _meta.Blobs.TouchAll(_holds.Snapshot(), DateTimeOffset.UtcNow); // held chunks count as just used
            while (true)
            {
                IReadOnlyList<ChunkId> garbage = _meta.UnreferencedBlobs(DateTimeOffset.UtcNow - (grace ?? _grace), BatchSize);
                if (garbage.Count == 0)
                {
                    break;
                }

                foreach (ChunkId id in garbage)
                {
                    bytes += _meta.Blobs.GetBlob(id)?.Size ?? 0;
                    _blobs.Delete(id, _meta.Blobs);
                }

                _meta.CompleteReplication(garbage);
                total += garbage.Count;
                _network.Broadcast(NodeMessageType.CollectChunks, SignedNotices.MakeCollect(_signer, garbage, DateTimeOffset.UtcNow));
            }
        }

        if (total > 0)
        {
            Log.Collected(_log, total, bytes);
        }

        return total;
    }

    private Task LoopAsync(TimeSpan interval) => PeriodicLoop.RunAsync(interval, _ =>
    {
        Collect();
        _cache.Evict();
        return Task.CompletedTask;
    }, e => Log.LoopFailed(_log, "collection", e.Message), _stopping.Token);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
