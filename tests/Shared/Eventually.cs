namespace NexNet.Tests.Shared;

/// <summary>Waits for a condition with a deadline, checking it on a short timer; fails with a message saying what never happened.</summary>
internal static class Eventually
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(20);

    /// <remarks><paramref name="state"/>, if given, is added to the failure message: what each part sees, its log.</remarks>
    public static Task WaitAsync(Func<bool> condition, TimeSpan deadline, string what, Func<string>? state = null) =>
        WaitAsync(() => Task.FromResult(condition()), deadline, what, state);

    /// <summary>The same for a condition that must ask something (a process, a server) to know.</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan deadline, string what, Func<string>? state = null)
    {
        if (await condition())
        {
            return;
        }

        using var timer = new PeriodicTimer(s_poll);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await timer.WaitForNextTickAsync())
        {
            if (await condition())
            {
                return;
            }

            if (clock.Elapsed > deadline)
            {
                string message = $"within {deadline.TotalSeconds:F1} s, this never happened: {what}";
                throw new TimeoutException(state is null ? message : message + "\n" + state());
            }
        }
    }
}
