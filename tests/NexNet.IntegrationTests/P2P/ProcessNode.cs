using NexNet.Crypto;
using NexNet.IntegrationTests.Support;
using NexNet.Tests.Shared;

namespace NexNet.IntegrationTests.P2P;

/// <summary>A network node running as its own process (the test host's p2p-node mode), with its data dir.</summary>
internal sealed class ProcessNode : IDisposable
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    private ProcessNode(string name, TempDirectory dir, ChildProcess process, string address, string id)
    {
        Name = name;
        Dir = dir;
        Process = process;
        Address = address;
        Id = id;
    }

    public string Name { get; }

    public TempDirectory Dir { get; }

    public ChildProcess Process { get; private set; }

    public string Address { get; private set; }

    /// <summary>The node id in its text form.</summary>
    public string Id { get; }

    /// <summary>The last peer count the node printed (-1 before any).</summary>
    public int Peers => Process.LastLine(l => l.StartsWith("peers ", StringComparison.Ordinal)) is { } line ? int.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture) : -1;

    public static async Task<ProcessNode> StartAsync(string name, byte[] secret, params string[] bootstrap)
    {
        var dir = new TempDirectory();
        KeyFile.Write(dir.Combine("network.key"), secret);
        (ChildProcess process, string address, string id) = await LaunchAsync(dir, bootstrap);
        return new ProcessNode(name, dir, process, address, id);
    }

    /// <summary>Starts the node again on the same data dir (same identity, new port) after it died.</summary>
    public async Task RestartAsync(params string[] bootstrap)
    {
        Process.Dispose();
        (ChildProcess process, string address, _) = await LaunchAsync(Dir, bootstrap);
        Process = process;
        Address = address;
    }

    private static Task<(ChildProcess, string, string)> LaunchAsync(TempDirectory dir, string[] bootstrap) =>
        ChildProcess.StartListeningTestHostAsync(s_startDeadline, ["p2p-node", dir.Path, .. bootstrap]);

    public string Log => string.Join('\n', Process.Lines);

    public void Dispose()
    {
        Process.Dispose();
        Dir.Dispose();
    }
}
