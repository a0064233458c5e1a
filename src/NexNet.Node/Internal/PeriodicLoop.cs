namespace NexNet.Node.Internal;

/// <summary>
/// A background loop on a timer: the node's periodic work (anti-entropy, collection) runs until the
/// node stops, and one failed round is reported and the next one tried, never the end of the loop.
/// </summary>
internal static class PeriodicLoop
{
    public static async Task RunAsync(TimeSpan interval, Func<CancellationToken, Task> round, Action<Exception> failed, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await round(stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
