namespace NexNet.Node;

/// <summary>
/// A hybrid logical clock: milliseconds of wall time in the high 48 bits and a counter in the low 16.
/// It never runs backwards and always moves past every clock it has observed, so a change made after
/// seeing another change always gets the higher version, even across nodes whose clocks disagree.
/// </summary>
/// <remarks>
/// Bounded, because a version is a promise to every node: a clock more than <see cref="MaxSkew"/> ahead
/// of this node's wall time is refused (<see cref="TryObserve"/> says false and nothing moves), so one
/// record stamped near 2^63 can neither push every later edit past the end of the range nor freeze a
/// path. All arithmetic is checked. Only authenticated records are observed (Tree).
/// </remarks>
public sealed class HybridClock
{
    private const int CounterBits = 16;

    /// <summary>The default skew allowed between this node's wall clock and a record it accepts.</summary>
    public static readonly TimeSpan DefaultMaxSkew = TimeSpan.FromMinutes(10);

    private readonly Func<long> _wall;
    private readonly Lock _lock = new();
    private long _last;

    public HybridClock(Func<long>? wallMilliseconds = null, TimeSpan? maxSkew = null)
    {
        _wall = wallMilliseconds ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        MaxSkew = maxSkew ?? DefaultMaxSkew;
        if (MaxSkew < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSkew), "the clock skew bound cannot be negative");
        }
    }

    public TimeSpan MaxSkew { get; }

    /// <summary>A new timestamp, greater than every one issued or observed before.</summary>
    public long Next()
    {
        lock (_lock)
        {
            long wall = checked(_wall() * (1L << CounterBits)); // a multiplication: `checked` does not cover shifts
            _last = wall > _last ? wall : checked(_last + 1);
            return _last;
        }
    }

    /// <summary>A new timestamp, greater than every one issued or observed before and than <paramref name="floor"/> (the version a change replaces).</summary>
    public long NextAfter(long floor)
    {
        lock (_lock)
        {
            long wall = checked(_wall() * (1L << CounterBits));
            long next = Math.Max(wall, checked(Math.Max(_last, floor) + 1));
            _last = next;
            return next;
        }
    }

    /// <summary>
    /// Moves the clock past a timestamp seen from another node, if it is no further ahead of this node's
    /// wall time than <see cref="MaxSkew"/>; false (and no change) when it is, or when it is not positive.
    /// </summary>
    public bool TryObserve(long timestamp)
    {
        if (!IsAcceptable(timestamp))
        {
            return false;
        }

        lock (_lock)
        {
            _last = Math.Max(_last, timestamp);
        }

        return true;
    }

    /// <summary>True when <paramref name="timestamp"/> is positive and no more than the skew bound ahead of wall time.</summary>
    public bool IsAcceptable(long timestamp)
    {
        if (timestamp <= 0)
        {
            return false;
        }

        long limitMs = checked(_wall() + (long)MaxSkew.TotalMilliseconds);
        return limitMs < long.MaxValue >> CounterBits && timestamp <= checked(((limitMs + 1) << CounterBits) - 1);
    }

    /// <summary>The last timestamp of the wall-clock millisecond <paramref name="at"/> falls in: every change made up to that moment is at or before it.</summary>
    public static long AtWallTime(DateTimeOffset at) => checked((Math.Max(0, at.ToUnixTimeMilliseconds()) + 1) * (1L << CounterBits)) - 1;

    /// <summary>The wall time a timestamp was taken at.</summary>
    public static DateTimeOffset WallTime(long timestamp) => DateTimeOffset.FromUnixTimeMilliseconds(timestamp >> CounterBits);
}
