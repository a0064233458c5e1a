using NexNet.Node;

namespace NexNet.UnitTests.Node;

/// <summary>The clock moves past what it observes, but never past wall time plus the skew bound, and never overflows.</summary>
public sealed class HybridClockTests
{
    private const long Now = 1_800_000_000_000; // ms, 2027

    private static long Stamp(long ms, int counter = 0) => (ms << 16) + counter;

    [Fact]
    public void A_clock_within_the_skew_is_observed_and_the_next_stamp_passes_it()
    {
        var clock = new HybridClock(() => Now, TimeSpan.FromMinutes(10));
        long ahead = Stamp(Now + 9 * 60_000, 5);
        Assert.True(clock.TryObserve(ahead));
        Assert.Equal(ahead + 1, clock.Next());
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - 1)]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void A_poisoned_clock_is_refused_and_moves_nothing(long poison)
    {
        var clock = new HybridClock(() => Now, TimeSpan.FromMinutes(10));
        Assert.False(clock.TryObserve(poison));
        long next = clock.Next();
        Assert.Equal(Stamp(Now), next);
        Assert.True(clock.Next() > next);
    }

    [Fact]
    public void A_clock_just_past_the_skew_is_refused()
    {
        var clock = new HybridClock(() => Now, TimeSpan.FromMinutes(10));
        Assert.True(clock.IsAcceptable(Stamp(Now + 600_000, 0xFFFF)));
        Assert.False(clock.TryObserve(Stamp(Now + 600_001)));
        Assert.Equal(Stamp(Now), clock.Next());
    }

    [Fact]
    public void A_node_whose_own_clock_jumped_forward_still_writes_and_runs_on_when_it_is_set_back()
    {
        long wall = Now;
        var clock = new HybridClock(() => wall, TimeSpan.FromMinutes(10));
        long before = clock.Next();
        wall = Now + 86_400_000; // a day forward: its own stamps follow its wall time, no bound applies to them
        long jumped = clock.Next();
        Assert.Equal(Stamp(wall), jumped);
        wall = Now; // set back: stamps keep increasing instead of going back behind what it wrote
        long after = clock.Next();
        Assert.True(before < jumped && jumped < after);
        Assert.Equal(jumped + 1, after);
    }

    [Fact]
    public void A_change_stamps_past_the_version_it_replaces_even_when_the_clock_was_never_told()
    {
        // After a restart the clock knows nothing of a record accepted from up to the skew ahead.
        var clock = new HybridClock(() => Now, TimeSpan.FromMinutes(10));
        long stored = Stamp(Now + 5 * 60_000, 3);
        Assert.Equal(stored + 1, clock.NextAfter(stored));
        Assert.Equal(stored + 2, clock.Next());
        Assert.Equal(stored + 3, clock.NextAfter(0));
    }

    [Fact]
    public void Stamping_at_the_end_of_the_range_throws_instead_of_wrapping()
    {
        var clock = new HybridClock(() => long.MaxValue >> 16, TimeSpan.Zero);
        Assert.Equal((long.MaxValue >> 16) << 16, clock.Next());
        for (int i = 0; i < 0xFFFF; i++)
        {
            clock.Next();
        }

        Assert.Equal(long.MaxValue, (long.MaxValue >> 16 << 16) + 0xFFFF);
        Assert.Throws<OverflowException>(() => clock.Next());
    }
}
