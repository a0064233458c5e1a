namespace NexNet.Node.Space;

/// <summary>
/// Prunes history by one rule on every node: a version goes once the version that replaced it is older
/// than the retention (by that version's clock, which every node holds alike, not by when it arrived
/// here), unless a snapshot was taken while it was current; past the size cap, the oldest versions go
/// first, still never a snapshot's. Nothing a peer sends removes a version sooner: only time, the cap
/// and deleting a snapshot do. The chunks a pruned version let go of get the collection grace, then go.
/// </summary>
internal sealed class HistoryRetention : IAsyncDisposable
{
    private const int BatchSize = 500;

    private readonly NodeStore _meta;
    private readonly long _maxBytes;
    private readonly int _chunkSize;
    private readonly Func<IReadOnlyList<long>> _pins;
    private readonly Func<DateTimeOffset> _now;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly Lock _lock = new();
    private readonly SpacePressure? _pressure;

    /// <summary><paramref name="pins"/>: the clocks of the snapshots (none on a storage peer, which cannot read them).</summary>
    /// <paramref name="pressure"/>: relieved after each pass (members), so space pressure is measured and acted on as often as history is pruned.
    /// The retention is the store's (<see cref="NodeStore.HistoryRetention"/>), which also decides whether replaced records are kept at all.
    public HistoryRetention(NodeStore meta, long maxBytes, int chunkSize, Func<IReadOnlyList<long>> pins, TimeSpan interval, ILogger log,
        SpacePressure? pressure = null, Func<DateTimeOffset>? now = null)
    {
        _pressure = pressure;
        _meta = meta;
        _maxBytes = maxBytes;
        _chunkSize = chunkSize;
        _pins = pins;
        _now = now ?? (() => DateTimeOffset.UtcNow);
        _log = log;
        _loop = Task.Run(() => PeriodicLoop.RunAsync(interval, _ =>
        {
            Prune();
            _pressure?.Relieve();
            return Task.CompletedTask;
        }, e => Log.LoopFailed(_log, "history pruning", e.Message), _stopping.Token));
    }

    /// <summary>Prunes now what retention and the cap say must go. Returns how many versions went.</summary>
    public int Prune()
    {
        lock (_lock)
        {
            DateTimeOffset now = _now();
            IReadOnlyList<long> pins = _pins();
            int expired = PruneBefore(_meta.HistoryCutoff(now), pins);
            int capped = _maxBytes <= 0 ? 0 : _meta.PruneOldestWhile(() => _meta.HistoryTotals(_chunkSize).Bytes > _maxBytes, pins, released => Release(released, now));
            if (expired + capped > 0)
            {
                Log.HistoryPruned(_log, expired, capped, _meta.HistoryRetention.TotalDays, _maxBytes);
            }

            return expired + capped;
        }
    }

    private int PruneBefore(long cutoff, IReadOnlyList<long> pins)
    {
        int total = 0;
        while (true)
        {
            (int pruned, IReadOnlyList<ChunkId> released) = _meta.PruneVersions(cutoff, pins, BatchSize);
            Release(released, _now());
            total += pruned;
            if (pruned < BatchSize)
            {
                return total;
            }
        }
    }

    /// <summary>A chunk a pruned version let go of waits the grace like any other (a writer elsewhere may reuse it).</summary>
    private void Release(IReadOnlyList<ChunkId> chunks, DateTimeOffset now)
    {
        if (chunks.Count > 0)
        {
            _meta.Blobs.TouchAll(chunks, now);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
