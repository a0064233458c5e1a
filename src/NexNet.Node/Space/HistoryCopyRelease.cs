namespace NexNet.Node.Space;

/// <summary>
/// Space pressure's part for history in a network: gives up this node's copies of chunks only history
/// references once R other nodes prove they hold them now (a proof of possession each), oldest version
/// first, until the disk is above the pressure line. The versions stay; a read fetches their chunks back.
/// Proven, not inferred from placement: a full peer left out of placement, or a membership change whose
/// repair has not run yet, would make placement say a copy is elsewhere when it is not. Proofs are
/// requests, so this runs in the background, one pass at a time; a pass that gave up nothing is not
/// repeated for a minute.
/// </summary>
internal sealed class HistoryCopyRelease : IAsyncDisposable
{
    private const int VersionsPerPage = 64;
    private static readonly TimeSpan s_backOff = TimeSpan.FromMinutes(1);

    private readonly NodeStore _meta;
    private readonly BlobStore _blobs;
    private readonly Func<IReadOnlyList<ChunkId>, CancellationToken, Task<IReadOnlySet<ChunkId>>> _provenElsewhere;
    private readonly Func<IEnumerable<(ChunkId Id, long Size)>, (int Count, long Bytes)> _dropCopies;
    private readonly int _copies;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private Task _pass = Task.CompletedTask;
    private DateTimeOffset _idleUntil;

    /// <summary>
    /// <paramref name="provenElsewhere"/>: which chunks <paramref name="copies"/> (R) other nodes prove they hold
    /// (Replicator.ProvenElsewhereAsync); <paramref name="dropCopies"/>: deletes copies nobody holds (ChunkDiscard.DropCopies).
    /// </summary>
    public HistoryCopyRelease(NodeStore meta, BlobStore blobs, Func<IReadOnlyList<ChunkId>, CancellationToken, Task<IReadOnlySet<ChunkId>>> provenElsewhere,
        Func<IEnumerable<(ChunkId Id, long Size)>, (int Count, long Bytes)> dropCopies, int copies, ILogger log)
    {
        _meta = meta;
        _blobs = blobs;
        _provenElsewhere = provenElsewhere;
        _dropCopies = dropCopies;
        _copies = copies;
        _log = log;
    }

    /// <summary>The pass under way or last run (tests wait on it).</summary>
    public Task Pass
    {
        get
        {
            lock (_lock)
            {
                return _pass;
            }
        }
    }

    /// <summary>Starts a pass down to <paramref name="line"/> free bytes, unless one runs or the last gave up nothing a moment ago.</summary>
    public void Start(long line)
    {
        lock (_lock)
        {
            if (!_pass.IsCompleted || DateTimeOffset.UtcNow < _idleUntil || _stopping.IsCancellationRequested)
            {
                return;
            }

            _pass = Task.Run(() => RunAsync(line, _stopping.Token));
        }
    }

    private async Task RunAsync(long line, CancellationToken cancellationToken)
    {
        int count = 0;
        long bytes = 0;
        try
        {
            HistoryCursor? at = null;
            do
            {
                (IReadOnlyList<(ChunkId Id, long Size)> chunks, at) = _meta.HistoryOnlyCopies(at, VersionsPerPage);
                foreach ((ChunkId Id, long Size)[] batch in chunks.DistinctBy(c => c.Id).Chunk(ChunkService.MaxIdsPerMessage))
                {
                    IReadOnlySet<ChunkId> proven = await _provenElsewhere([.. batch.Select(c => c.Id)], cancellationToken);
                    (int dropped, long freed) = _dropCopies(batch.Where(c => proven.Contains(c.Id)));
                    count += dropped;
                    bytes += freed;
                }
            }
            while (at is not null && _blobs.FreeBytes() < line && !cancellationToken.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // the node is stopping
        }
        catch (Exception e) when (e is IOException or Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException)
        {
            Log.LoopFailed(_log, "giving up copies of history", e.Message);
        }

        if (count == 0)
        {
            lock (_lock)
            {
                _idleUntil = DateTimeOffset.UtcNow + s_backOff; // read by Start under the lock
            }
        }

        Log.HistoryCopiesReleased(_log, count, bytes, _copies, _blobs.FreeBytes());
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Pass.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
