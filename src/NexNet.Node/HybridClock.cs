namespace NexNet.Node;

/// <summary>
/// A hybrid logical clock: milliseconds of wall time in the high 48 bits and a counter in the low 16.
/// It never runs backwards and always moves past every clock it has observed, so a change made after
/// seeing another change always gets the higher version, even across nodes whose clocks disagree.
/// </summary>
public sealed class HybridClock(Func<long>? wallMilliseconds = null)
{
    private const int CounterBits = 16;

    private readonly Func<long> _wall = wallMilliseconds ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private readonly Lock _lock = new();
    private long _last;

    /// <summary>A new timestamp, greater than every one issued or observed before.</summary>
    public long Next()
    {
        lock (_lock)
        {
            long wall = _wall() << CounterBits;
            _last = wall > _last ? wall : _last + 1;
            return _last;
        }
    }

    /// <summary>Moves the clock past a timestamp seen from another node.</summary>
    public void Observe(long timestamp)
    {
        lock (_lock)
        {
            _last = Math.Max(_last, timestamp);
        }
    }

    /// <summary>The wall time a timestamp was taken at.</summary>
    public static DateTimeOffset WallTime(long timestamp) => DateTimeOffset.FromUnixTimeMilliseconds(timestamp >> CounterBits);
}
