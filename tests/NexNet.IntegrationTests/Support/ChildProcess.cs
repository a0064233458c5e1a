using System.Collections.Concurrent;
using System.Diagnostics;

namespace NexNet.IntegrationTests.Support;

/// <summary>
/// A child process whose stdout is read line by line with a deadline on every wait, so a hung child
/// fails the test with a message instead of hanging the run. Its stderr is drained from the start (the
/// last <see cref="StderrLinesKept"/> lines are kept), so a chatty child never blocks on a full pipe and
/// a failure can show what it said while it still runs.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    public const int StderrLinesKept = 2000;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly Task _stderrPump;
    private Task? _pump;

    private ChildProcess(Process process)
    {
        _process = process;
        _stderrPump = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                _stderr.Enqueue(line);
                while (_stderr.Count > StderrLinesKept && _stderr.TryDequeue(out _))
                {
                }
            }
        });
    }

    /// <summary>Lines collected so far (after <see cref="StartCollecting"/>).</summary>
    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>The last <see cref="StderrLinesKept"/> lines of stderr so far (where nexnet writes its log).</summary>
    public IReadOnlyCollection<string> ErrorLines => _stderr;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The dotnet host that runs the tests (it runs the test host and the nexnet command too).</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Starts the test host (copied beside the tests by the build) with the given arguments.</summary>
    public static ChildProcess StartTestHost(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "testhost", "NexNet.TestHost.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"test host not built at {dll}");
        }

        return Start(Dotnet, [dll, .. args]);
    }

    /// <summary>
    /// Starts a test host mode that prints <c>listening ADDR ID</c> first, collects its output, and waits for
    /// that line (up to <paramref name="deadline"/>).
    /// </summary>
    public static async Task<(ChildProcess Process, string Address, string Id)> StartListeningTestHostAsync(TimeSpan deadline, params string[] args)
    {
        ChildProcess process = StartTestHost(args).StartCollecting();
        string listening = await process.WaitForLineAsync(l => l.StartsWith("listening ", StringComparison.Ordinal), deadline, "its listening line");
        string[] parts = listening.Split(' ');
        return (process, parts[1], parts[2]);
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

    /// <summary>From now on, stdout lines are read in the background into <see cref="Lines"/>; use <see cref="WaitForLineAsync"/> instead of <see cref="ReadLineAsync"/>.</summary>
    public ChildProcess StartCollecting()
    {
        _pump ??= Task.Run(async () =>
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                _lines.Enqueue(line);
            }
        });
        return this;
    }

    /// <summary>The first collected line (old or new) that matches, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        string? found = null;
        await Eventually.WaitAsync(() => (found = _lines.FirstOrDefault(match)) is not null, timeout, $"child {_process.Id} printed {what}");
        return found!;
    }

    /// <summary>Waits until stdout has ended and every line is in <see cref="Lines"/> (after <see cref="StartCollecting"/>); a child's child still holding the pipe makes it throw after <paramref name="timeout"/>.</summary>
    public async Task OutputEndedAsync(TimeSpan timeout)
    {
        try
        {
            await (_pump ?? Task.CompletedTask).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"child {_process.Id}'s stdout stayed open {timeout.TotalSeconds:F0} s after it exited (a process it started still holds it)");
        }
    }

    /// <summary>The last collected line that matches, or null.</summary>
    public string? LastLine(Func<string, bool> match) => _lines.LastOrDefault(match);

    /// <summary>Writes one line to the child's stdin.</summary>
    public void WriteLine(string line)
    {
        lock (_process)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
    }

    /// <summary>Closes the child's stdin (the test hosts stop politely when it closes).</summary>
    public void CloseStandardInput() => _process.StandardInput.Close();

    /// <summary>Sends a signal by name (STOP freezes the process with its sockets open; CONT thaws it).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>SIGKILL: no handler, no flush, no cleanup runs in the child.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>What the child wrote to stderr (its last <see cref="StderrLinesKept"/> lines): all of it once it has exited, what it wrote so far while it runs.</summary>
    public async Task<string> StderrAsync()
    {
        if (!_process.HasExited)
        {
            return "(still running) " + string.Join('\n', _stderr);
        }

        // A process the child started may hold the pipe open; what came before is still worth showing.
        await _stderrPump.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return string.Join('\n', _stderr);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signal("CONT"); // a frozen child cannot die until thawed
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
