namespace NexNet.P2P.Internal;

internal static class TaskExtensions
{
    /// <summary>
    /// Lets a send run on without waiting for it, observing its failure so it is not an unobserved task
    /// exception. Used where a failed send needs no action of its own: a send only fails when the
    /// connection is closing, and closing is logged once, elsewhere.
    /// </summary>
    public static void Forget(this ValueTask task) =>
        _ = task.AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
}
