using NexNet.Crypto;

namespace NexNet.IntegrationTests.P2P;

/// <summary>The network layer alone in its own process (the test host's p2p-node mode), for tests that kill, freeze or flood it.</summary>
internal sealed class HostedNetworkNode : HostedProcess
{
    private const string Mode = "p2p-node";

    private HostedNetworkNode(string name, TempDirectory dir, ChildProcess process, string address, string id) : base(name, dir, process, address, id)
    {
    }

    /// <summary>The last peer count the node printed (-1 before any).</summary>
    public int Peers => Process.LastLine(l => l.StartsWith("peers ", StringComparison.Ordinal)) is { } line ? int.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture) : -1;

    public string Log => string.Join('\n', Process.Lines);

    public static async Task<HostedNetworkNode> StartAsync(string name, byte[] secret, params string[] bootstrap)
    {
        var dir = new TempDirectory();
        KeyFile.Write(dir.Combine("network.key"), secret);
        (ChildProcess process, string address, string id) = await LaunchAsync(Mode, dir, bootstrap);
        return new HostedNetworkNode(name, dir, process, address, id);
    }

    /// <summary>Starts the node again on the same data dir (same identity, new port) after it died.</summary>
    public Task RestartAsync(params string[] bootstrap) => RelaunchAsync(Mode, bootstrap);
}
