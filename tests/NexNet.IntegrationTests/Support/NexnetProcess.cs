namespace NexNet.IntegrationTests.Support;

/// <summary>
/// A real <c>nexnet</c> process a test started (the command users run, built beside the tests):
/// <see cref="Cli.NexnetNodeProcess"/> for <c>nexnet node</c>, <see cref="Mount.NexnetMountProcess"/> for
/// <c>nexnet mount</c>. Disposing stops it with SIGTERM and fails unless it stops within its deadline with
/// exit code 0: a process that hangs or fails on SIGTERM is a defect, not tidying up.
/// </summary>
internal abstract class NexnetProcess(ChildProcess process, string dataDirectory, string address) : IAsyncDisposable
{
    public ChildProcess Process { get; } = process;

    public string DataDirectory { get; } = dataDirectory;

    /// <summary>The node's listen address (host:port).</summary>
    public string Address { get; } = address;

    /// <summary>What it is, for messages ("nexnet node DIR").</summary>
    protected abstract string What { get; }

    /// <summary>Runs the nexnet command with <paramref name="args"/>.</summary>
    public static ChildProcess Start(params string[] args) => ChildProcess.Start(ChildProcess.Dotnet, [Cli.Nexnet.Dll, .. args]);

    /// <summary>Starts nexnet and waits for its line starting with <paramref name="prefix"/>; says what it wrote to stderr if it exits first.</summary>
    protected static async Task<(ChildProcess Process, string Line)> StartAndWaitAsync(string[] args, string prefix, TimeSpan deadline, string what)
    {
        ChildProcess process = Start(args).StartCollecting();
        try
        {
            return (process, await process.WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), deadline, what));
        }
        catch (TimeoutException) when (process.HasExited)
        {
            string stderr = await process.StderrAsync();
            process.Dispose();
            throw new InvalidOperationException($"nexnet {args[0]} exited: {stderr}");
        }
    }

    /// <summary>The host:port after "listening on " in a started line.</summary>
    protected static string ListenAddressIn(string line) =>
        line[(line.IndexOf("listening on ", StringComparison.Ordinal) + "listening on ".Length)..].Split(',')[0].TrimEnd(')');

    /// <summary>SIGTERM and wait for the exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        Process.Signal("TERM");
        return await Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Tidies what the process may leave behind after it is gone (a mountpoint).</summary>
    protected virtual Task AfterExitAsync() => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        string? failure = null;
        try
        {
            if (!Process.HasExited)
            {
                int exit = await StopAsync();
                if (exit != 0)
                {
                    failure = $"{What} exited with {exit} on SIGTERM: {await Process.StderrAsync()}";
                }
            }
        }
        catch (TimeoutException e)
        {
            failure = $"{What}: {e.Message} after SIGTERM (killed); its last lines: {await Process.StderrAsync()}";
        }
        finally
        {
            Process.Dispose();
            await AfterExitAsync();
        }

        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }
    }
}
