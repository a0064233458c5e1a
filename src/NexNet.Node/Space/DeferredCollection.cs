namespace NexNet.Node.Space;

/// <summary>
/// A storage peer's collection. It cannot read the tree, so it acts on members' signed collect notices,
/// but not at once: the chunks a notice names wait out the history retention first (marked in
/// collect_after), so no single member — a stolen laptop with the volume key, say — can make storage
/// peers drop what history still holds. A chunk pushed again meanwhile loses its mark and stays.
/// </summary>
internal sealed class DeferredCollection : IAsyncDisposable
{
    private readonly NodeStore _meta;
    private readonly ChunkService _chunks;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public DeferredCollection(NodeStore meta, ChunkService chunks, TimeSpan interval, ILogger log)
    {
        _meta = meta;
        _chunks = chunks;
        _log = log;
        _loop = Task.Run(() => PeriodicLoop.RunAsync(interval, _ =>
        {
            CollectDue();
            return Task.CompletedTask;
        }, e => Log.LoopFailed(_log, "deferred collection", e.Message), _stopping.Token));
    }

    /// <summary>Deletes every marked chunk whose time has come. Returns how many.</summary>
    public int CollectDue()
    {
        int total = 0;
        while (_meta.DueCollections(DateTimeOffset.UtcNow, ChunkService.MaxIdsPerMessage) is { Count: > 0 } due)
        {
            _chunks.Delete(due);
            total += due.Count;
        }

        if (total > 0)
        {
            Log.DeferredCollected(_log, total);
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
