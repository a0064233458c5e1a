using System.Diagnostics;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;

namespace NexNet.Cli;

/// <summary>
/// <c>--background</c> for <c>node</c> and <c>mount</c>: runs the same command again in its own session
/// (so closing the terminal does not stop it), waits until its control socket answers (and, for a mount,
/// until it is mounted), says where it runs and how to stop it, and returns. If it stops on the way, its
/// last lines are shown and its exit code returned.
/// </summary>
internal static class Background
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    public static async Task<int> StartAsync(string data, string? mountpoint, CancellationToken cancellationToken)
    {
        string[] self = Environment.GetCommandLineArgs();
        string host = Environment.ProcessPath ?? throw new CliException("cannot tell which program is running, so cannot start it again in the background", ExitCodes.Internal);
        List<string> command = Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, self[0]] : [host];
        command.AddRange(self.Skip(1).Where(a => a != "--background"));

        string logs = Path.Combine(data, "logs");
        DataDirectory.CreatePrivate(logs);
        string output = Path.Combine(logs, "background.out");
        if (!File.Exists(output) && !OperatingSystem.IsWindows())
        {
            File.WriteAllBytes(output, []);
            File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (string arg in (string[])["sh", "-c", "out=$0; exec \"$@\" >>\"$out\" 2>&1 </dev/null", output, .. command])
        {
            start.ArgumentList.Add(arg);
        }

        using Process child = Process.Start(start) ?? throw new CliException("could not start the background process (is setsid installed?)", ExitCodes.Unavailable);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_deadline)
        {
            if (child.HasExited)
            {
                string[] lines = File.Exists(output) ? File.ReadAllLines(output) : [];
                foreach (string line in lines.TakeLast(5))
                {
                    Console.Error.WriteLine(line);
                }

                return child.ExitCode == 0 ? ExitCodes.Internal : child.ExitCode;
            }

            if (await StatusAsync(data, cancellationToken) is { } status
                && (mountpoint is null || (status["mounts"] as JsonArray)?.Any(m => (string?)m == mountpoint) == true))
            {
                string where = mountpoint is null ? "node running" : $"mounted {mountpoint}";
                string stop = mountpoint is null ? $"`kill {child.Id}`" : $"`nexnet unmount {mountpoint}`";
                Console.WriteLine($"nexnet: {where} in the background (pid {child.Id}, listening on {(string?)status["listen"]}); stop with {stop}; log: {Path.Combine(logs, "nexnet.log")}");
                return ExitCodes.Ok;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new CliException($"the background node did not come up within {s_deadline.TotalSeconds:F0} s: see {output}", ExitCodes.Unavailable);
    }

    private static async Task<JsonObject?> StatusAsync(string data, CancellationToken cancellationToken)
    {
        try
        {
            return await ControlClient.StatusAsync(data, cancellationToken);
        }
        catch (Exception e) when (e is CliException or IOException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }
}
