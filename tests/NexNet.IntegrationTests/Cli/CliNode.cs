using NexNet.IntegrationTests.Support;

namespace NexNet.IntegrationTests.Cli;

/// <summary>A real <c>nexnet node</c> in the foreground on 127.0.0.1, port 0; disposing stops it with SIGTERM.</summary>
internal sealed class CliNode : IAsyncDisposable
{
    private CliNode(ChildProcess process, string data, string address, string? webDav)
    {
        Process = process;
        DataDirectory = data;
        Address = address;
        WebDavUrl = webDav;
    }

    /// <summary>The WebDAV URL when started with --webdav.</summary>
    public string? WebDavUrl { get; }

    public ChildProcess Process { get; }

    public string DataDirectory { get; }

    public string Address { get; }

    /// <summary>Initialises <paramref name="data"/> unless it already is, then starts its node.</summary>
    public static async Task<CliNode> StartAsync(string data, params string[] extra)
    {
        if (!File.Exists(Path.Combine(data, "network.key")))
        {
            Nexnet.Result init = await Nexnet.RunAsync("init", "--data", data, "--listen", "127.0.0.1:0");
            Assert.True(init.Exit == 0, init.ToString());
        }

        ChildProcess process = Mount.MountProcess.StartNexnet(["node", "--data", data, .. extra]).StartCollecting();
        try
        {
            string line = await process.WaitForLineAsync(l => l.StartsWith("nexnet: node ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "its running line");
            string address = line[(line.IndexOf("listening on ", StringComparison.Ordinal) + "listening on ".Length)..].Split(',')[0];
            string? webDav = null;
            if (extra.Contains("--webdav"))
            {
                string served = await process.WaitForLineAsync(l => l.StartsWith("nexnet: webdav at ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "its webdav line");
                webDav = served["nexnet: webdav at ".Length..].Split(' ')[0];
            }

            return new CliNode(process, data, address, webDav);
        }
        catch (TimeoutException) when (process.HasExited)
        {
            throw new InvalidOperationException($"nexnet node exited: {await process.StderrAsync()}");
        }
    }

    /// <summary>SIGTERM, and fails unless the node stops within its deadline with exit code 0 (saying what it wrote to stderr).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Signal("TERM");
                int exit;
                try
                {
                    exit = await Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
                }
                catch (TimeoutException e)
                {
                    throw new TimeoutException($"nexnet node {DataDirectory}: {e.Message} of SIGTERM; its last lines: {await Process.StderrAsync()}", e);
                }

                if (exit != 0)
                {
                    throw new InvalidOperationException($"nexnet node {DataDirectory} exited with {exit} on SIGTERM: {await Process.StderrAsync()}");
                }
            }
        }
        finally
        {
            Process.Dispose();
        }
    }
}
