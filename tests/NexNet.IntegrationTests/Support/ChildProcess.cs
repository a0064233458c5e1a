using System.Diagnostics;

namespace NexNet.IntegrationTests.Support;

/// <summary>
/// A child process whose stdout is read line by line with a deadline on every wait, so a hung child
/// fails the test with a message instead of hanging the run.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the test host (copied beside the tests by the build) with the given arguments.</summary>
    public static ChildProcess StartTestHost(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "testhost", "NexNet.TestHost.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"test host not built at {dll}");
        }

        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return Start(dotnet, [dll, .. args]);
    }

    public static ChildProcess Start(string fileName, params string[] args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        return new ChildProcess(process);
    }

    /// <summary>The next line of stdout, or null at end of stream; throws TimeoutException after <paramref name="timeout"/>.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _process.StandardOutput.ReadLineAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"child {_process.Id} printed nothing for {timeout.TotalSeconds:F0} s; stderr: {await StderrAsync()}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"child {_process.Id} did not exit within {timeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>SIGKILL: no handler, no flush, no cleanup runs in the child.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async Task<string> StderrAsync()
    {
        if (!_process.HasExited)
        {
            return "(still running)";
        }

        return await _process.StandardError.ReadToEndAsync();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
