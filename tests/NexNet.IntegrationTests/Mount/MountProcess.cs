using NexNet.IntegrationTests.Support;

namespace NexNet.IntegrationTests.Mount;

/// <summary>
/// A real <c>nexnet mount</c> process (the command users run) with its node on 127.0.0.1, port 0. Waits
/// for its "mounted" line; disposing stops it with SIGTERM (a clean unmount) and makes sure nothing
/// stays mounted even if the test killed it.
/// </summary>
internal sealed class MountProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(60);

    private MountProcess(ChildProcess process, string mountpoint, string dataDirectory, string address)
    {
        Process = process;
        Mountpoint = mountpoint;
        DataDirectory = dataDirectory;
        Address = address;
    }

    public ChildProcess Process { get; }

    public string Mountpoint { get; }

    public string DataDirectory { get; }

    /// <summary>The node's listen address (host:port).</summary>
    public string Address { get; }

    public static async Task<MountProcess> StartAsync(string dataDirectory, string mountpoint, params string[] extra)
    {
        Assert.True(File.Exists("/dev/fuse"), "/dev/fuse is missing: mount tests need FUSE (modprobe fuse)");
        Directory.CreateDirectory(mountpoint);
        ChildProcess process = StartNexnet(["mount", mountpoint, "--data", dataDirectory, "--listen", "127.0.0.1:0", .. extra]).StartCollecting();
        try
        {
            string mounted = await process.WaitForLineAsync(l => l.StartsWith("nexnet: mounted ", StringComparison.Ordinal), s_startDeadline, "its mounted line");
            string address = mounted[(mounted.IndexOf("listening on ", StringComparison.Ordinal) + "listening on ".Length)..].TrimEnd(')');
            return new MountProcess(process, Path.GetFullPath(mountpoint), dataDirectory, address);
        }
        catch (TimeoutException) when (process.HasExited)
        {
            throw new InvalidOperationException($"nexnet mount exited: {await process.StderrAsync()}");
        }
    }

    /// <summary>Runs the nexnet command (built beside the tests) with <paramref name="args"/>.</summary>
    public static ChildProcess StartNexnet(params string[] args)
    {
        return ChildProcess.Start(ChildProcess.Dotnet, [Cli.Nexnet.Dll, .. args]);
    }

    public string PathOf(string relative) => Path.Combine(Mountpoint, relative);

    public static bool IsMounted(string mountpoint) =>
        File.ReadLines("/proc/mounts").Any(l => l.Split(' ') is { Length: > 1 } f && f[1] == Path.GetFullPath(mountpoint));

    /// <summary>SIGTERM and wait for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        Process.Signal("TERM");
        return await Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Stops the mount if the test left it running, and fails unless it stopped cleanly: within its deadline
    /// and with exit code 0 (a mount that hangs or fails on SIGTERM is a defect, not tidying up). The
    /// mountpoint is unmounted either way.
    /// </summary>
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
                    failure = $"nexnet mount exited with {exit} on SIGTERM: {await Process.StderrAsync()}";
                }
            }
        }
        catch (TimeoutException e)
        {
            failure = $"{e.Message} after SIGTERM (killed): {await Process.StderrAsync()}";
        }
        finally
        {
            Process.Dispose();
            if (IsMounted(Mountpoint))
            {
                await Shell.RunAsync($"fusermount3 -u -z '{Mountpoint}' || umount -l '{Mountpoint}'");
            }
        }

        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }
    }
}
