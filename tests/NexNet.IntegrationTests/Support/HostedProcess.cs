namespace NexNet.IntegrationTests.Support;

/// <summary>
/// A node the test host (tests/NexNet.TestHost) runs as a child process, with its data directory:
/// <see cref="Node.HostedFullNode"/> (its "node" mode: a whole node driven over stdin) and
/// <see cref="P2P.HostedNetworkNode"/> (its "p2p-node" mode: the network layer alone). In-process nodes
/// are <see cref="P2P.InProcessPeer"/>; the real command's processes are <see cref="NexnetProcess"/>.
/// </summary>
internal abstract class HostedProcess(string name, TempDirectory dir, ChildProcess process, string address, string id) : IDisposable
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    public string Name { get; } = name;

    public TempDirectory Dir { get; } = dir;

    public ChildProcess Process { get; private set; } = process;

    /// <summary>Where it listens (host:port).</summary>
    public string Address { get; private set; } = address;

    /// <summary>The node id in its text form.</summary>
    public string Id { get; } = id;

    /// <summary>Starts the test host in <paramref name="mode"/> on <paramref name="dir"/>, waiting for its "listening ADDR ID" line.</summary>
    protected static Task<(ChildProcess Process, string Address, string Id)> LaunchAsync(string mode, TempDirectory dir, IEnumerable<string> args) =>
        ChildProcess.StartListeningTestHostAsync(s_startDeadline, [mode, dir.Path, .. args]);

    /// <summary>Starts it again in <paramref name="mode"/> on the same data dir (same identity, new port) after it died.</summary>
    protected async Task RelaunchAsync(string mode, IEnumerable<string> args)
    {
        Process.Dispose();
        (Process, Address, _) = await LaunchAsync(mode, Dir, args);
    }

    public void Dispose()
    {
        Process.Dispose();
        Dir.Dispose();
    }
}
