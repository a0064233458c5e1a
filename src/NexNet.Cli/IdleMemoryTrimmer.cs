namespace NexNet.Cli;

/// <summary>
/// Gives memory back to the system when the node goes quiet after work. The GC keeps the heap it grew
/// during a burst (a 13,000-file tar x left the node at ~200 MiB for as long as it then sat idle); once
/// allocation has stopped for a couple of seconds after at least <see cref="Burst"/> of it, one
/// aggressive full collection compacts the heap and decommits what is free. It costs a few
/// milliseconds, only when nothing else is running.
/// </summary>
internal sealed class IdleMemoryTrimmer : IDisposable
{
    private const long Burst = 64L * 1024 * 1024;
    private const long Quiet = 1024 * 1024;
    private static readonly TimeSpan s_period = TimeSpan.FromSeconds(2);

    private readonly Timer _timer;
    private long _lastSeen = GC.GetTotalAllocatedBytes();
    private long _lastTrim = GC.GetTotalAllocatedBytes();

    public IdleMemoryTrimmer() => _timer = new Timer(_ => Check(), null, s_period, s_period);

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        long now = GC.GetTotalAllocatedBytes();
        bool idle = now - _lastSeen < Quiet;
        _lastSeen = now;
        if (idle && now - _lastTrim >= Burst)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            _lastTrim = GC.GetTotalAllocatedBytes();
        }
    }
}
