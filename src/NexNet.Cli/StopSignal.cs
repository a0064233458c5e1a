using System.Runtime.InteropServices;

namespace NexNet.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM as a task, caught from the moment it is created: a foreground node makes one
/// before it starts anything, so a signal that comes while it is still starting (a script that stops it at
/// once) is a clean stop after the start, not the runtime's default handling halfway through it.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public StopSignal()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    /// <summary>Completes at the first SIGINT or SIGTERM since this was created.</summary>
    public Task Received => _stop.Task;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.TrySetResult();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
