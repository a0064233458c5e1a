namespace NexNet.IntegrationTests.Cli;

/// <summary>A real <c>nexnet node</c> in the foreground on 127.0.0.1, port 0.</summary>
internal sealed class NexnetNodeProcess : NexnetProcess
{
    private NexnetNodeProcess(ChildProcess process, string data, string address, string? webDav) : base(process, data, address) => WebDavUrl = webDav;

    /// <summary>The WebDAV URL when started with --webdav.</summary>
    public string? WebDavUrl { get; }

    protected override string What => $"nexnet node {DataDirectory}";

    /// <summary>Initialises <paramref name="data"/> unless it already is, then starts its node.</summary>
    public static async Task<NexnetNodeProcess> StartAsync(string data, params string[] extra)
    {
        if (!File.Exists(Path.Combine(data, "network.key")))
        {
            Nexnet.Result init = await Nexnet.RunAsync("init", "--data", data, "--listen", "127.0.0.1:0");
            Assert.True(init.Exit == 0, init.ToString());
        }

        (ChildProcess process, string line) = await StartAndWaitAsync(["node", "--data", data, .. extra], "nexnet: node ", TimeSpan.FromSeconds(60), "its running line");
        string? webDav = null;
        if (extra.Contains("--webdav"))
        {
            string served = await process.WaitForLineAsync(l => l.StartsWith("nexnet: webdav at ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "its webdav line");
            webDav = served["nexnet: webdav at ".Length..].Split(' ')[0];
        }

        return new NexnetNodeProcess(process, data, ListenAddressIn(line), webDav);
    }
}
