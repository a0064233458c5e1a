namespace NexNet.Cli.Control;

/// <summary>
/// How fast the replication queue drains, for <c>status</c>: the backlog is sampled every second and the
/// rate is its fall over the last few seconds (new writes meanwhile count against it, so it is the net
/// drain rate, zero while the queue grows).
/// </summary>
internal sealed class ReplicationRate
{
    private const int Window = 5;

    private readonly Func<long> _backlog;
    private readonly Queue<(long Ticks, long Bytes)> _samples = new();
    private readonly Lock _lock = new();

    public ReplicationRate(Func<long> backlogBytes, CancellationToken stop)
    {
        _backlog = backlogBytes;
        _ = SampleAsync(stop);
    }

    public double BytesPerSecond
    {
        get
        {
            lock (_lock)
            {
                if (_samples.Count < 2)
                {
                    return 0;
                }

                (long firstTicks, long firstBytes) = _samples.Peek();
                (long lastTicks, long lastBytes) = _samples.Last();
                double seconds = TimeSpan.FromTicks(lastTicks - firstTicks).TotalSeconds;
                return seconds <= 0 ? 0 : Math.Max(0, firstBytes - lastBytes) / seconds;
            }
        }
    }

    private async Task SampleAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                long bytes = _backlog();
                lock (_lock)
                {
                    _samples.Enqueue((DateTime.UtcNow.Ticks, bytes));
                    while (_samples.Count > Window + 1)
                    {
                        _samples.Dequeue();
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The node stopped first.
        }
    }
}
