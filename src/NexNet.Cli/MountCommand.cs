using System.Net;
using Microsoft.Extensions.Logging;
using NexNet.Cli.Control;
using NexNet.Crypto;
using NexNet.Fuse;
using NexNet.Node;
using NexNet.WebDav;

namespace NexNet.Cli;

/// <summary>
/// <c>nexnet node</c> and <c>nexnet mount DIR</c>: the node (and the mount) in the foreground until Ctrl+C
/// or SIGTERM, then a clean stop (auto_unmount covers kill -9). <c>mount --demo ROOT</c> mounts three
/// connected nodes at ROOT/a, ROOT/b and ROOT/c, so a file copied into one shows up in the others.
/// </summary>
internal static class MountCommand
{
    /// <summary>
    /// Runs a node — with a mount at <paramref name="mountpoint"/> when given — and its control socket in
    /// the foreground until Ctrl+C, SIGTERM or an unmount from outside; then stops cleanly. With
    /// <paramref name="past"/>, the mount is the volume as it was then, read-only.
    /// </summary>
    public static async Task<int> RunAsync(string data, NodeOptions nodeOptions, string? mountpoint, bool verbose, TextWriter output, WebDavOptions? webDav = null,
        DateTimeOffset? past = null)
    {
        if (mountpoint is not null && FuseHost.MountpointProblem(mountpoint) is { } problem)
        {
            throw new CliException(problem, ExitCodes.Usage);
        }

        ControlServer.RequireNoOtherNode(data);
        using var stop = new StopSignal();
        using ILoggerFactory logs = NodeLogging.Create(data, verbose, out string logFile);
        using var trimmer = new IdleMemoryTrimmer();
        ILogger log = logs.CreateLogger("nexnet");
        NexNetNode node;
        try
        {
            node = NexNetNode.Start(data, nodeOptions, log);
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            throw new CliException($"cannot listen on {nodeOptions.Listen}: the port is in use by another program; choose another with --listen HOST:PORT (port 0 picks a free one)", ExitCodes.Unavailable);
        }

        FuseHost? host = null;
        ControlServer? control = null;
        WebDavServer? dav = null;
        try
        {
            if (mountpoint is not null)
            {
                host = MountVolume(node, mountpoint, log, past);
            }

            if (webDav is not null)
            {
                dav = await StartWebDavAsync(node, webDav, log);
            }

            string? mounted = host?.Mountpoint;
            control = ControlServer.Start(node, () => mounted is null ? [] : [mounted], log, dav?.Url);
            string id = node.Id.ToString();
            string socket = ControlServer.SocketPath(data);
            Log.NodeStarted(log, id, node.Address, socket, logFile);
            output.WriteLine(host is null
                ? $"nexnet: node {node.Id.Abbreviated} running (listening on {node.Address}, data {data})"
                : $"nexnet: mounted {host.Mountpoint} (node {node.Id.Abbreviated}, listening on {node.Address})");
            if (dav is not null)
            {
                output.WriteLine(dav.CertificateFingerprint is { } fingerprint
                    ? $"nexnet: webdav at {dav.Url} (HTTPS, self-signed certificate SHA-256 {fingerprint})"
                    : $"nexnet: webdav at {dav.Url} (mount it with Explorer, Finder or davfs2)");
                output.WriteLine($"nexnet: webdav user {WebDavServer.UserName}, password in {Path.Combine(data, WebDavServer.PasswordFile)} (give it to the client's credential store, not its command line)");
            }

            output.WriteLine($"nexnet: stop with Ctrl+C or `kill {Environment.ProcessId}`{(host is null ? "" : $" or `nexnet unmount {host.Mountpoint}`")}; files closed before then are kept");
            output.Flush();
            Task unmounted = host?.Stopped ?? Task.Delay(Timeout.Infinite);
            if (await Task.WhenAny(stop.Received, unmounted) == unmounted)
            {
                output.WriteLine("nexnet: unmounted from outside; stopping");
            }

            return ExitCodes.Ok;
        }
        finally
        {
            if (control is not null)
            {
                await control.DisposeAsync();
            }

            if (dav is not null)
            {
                await dav.DisposeAsync();
            }

            host?.Dispose();
            await node.DisposeAsync();
            if (host is not null)
            {
                output.WriteLine($"nexnet: unmounted {host.Mountpoint}");
            }
        }
    }

    /// <summary>
    /// <c>mount --demo ROOT</c>: three connected nodes mounted at ROOT/a, ROOT/b and ROOT/c, each with its own
    /// control socket (so <c>nexnet status --data ROOT/.data/a</c> works) and its name on its log lines.
    /// </summary>
    public static async Task<int> RunDemoAsync(string root, string? data, bool verbose, TextWriter output)
    {
        using var stop = new StopSignal();
        var nodes = new List<DemoNode>();
        try
        {
            StartDemo(root, data, output, verbose ? LogLevel.Debug : LogLevel.Information, nodes);
            foreach (DemoNode demo in nodes)
            {
                output.WriteLine($"nexnet: mounted {demo.Host.Mountpoint} (node {demo.Node.Id.Abbreviated}, listening on {demo.Node.Address}; status: nexnet status --data {demo.Node.DataDirectory})");
            }

            output.WriteLine($"nexnet: stop with Ctrl+C or `kill {Environment.ProcessId}`; files closed before then are kept");
            output.Flush();
            Task unmounted = Task.WhenAny(nodes.Select(m => m.Host.Stopped));
            if (await Task.WhenAny(stop.Received, unmounted) == unmounted)
            {
                output.WriteLine("nexnet: unmounted from outside; stopping");
            }

            return ExitCodes.Ok;
        }
        finally
        {
            foreach (DemoNode demo in nodes)
            {
                if (demo.Control is not null)
                {
                    await demo.Control.DisposeAsync();
                }

                demo.Host.Dispose();
                await demo.Node.DisposeAsync();
                output.WriteLine($"nexnet: unmounted {demo.Host.Mountpoint}");
            }
        }
    }

    /// <summary>Creates the network and volume keys of a fresh volume if the data directory has none. True when it did.</summary>
    public static bool EnsureVolume(string dataDirectory)
    {
        DataDirectory.Create(dataDirectory);
        string network = Path.Combine(dataDirectory, NexNetNode.NetworkKeyFile);
        if (File.Exists(network))
        {
            return false;
        }

        KeyFile.CreateNew(network);
        KeyFile.CreateNew(Path.Combine(dataDirectory, NexNetNode.VolumeKeyFile));
        return true;
    }

    private static async Task<WebDavServer> StartWebDavAsync(NexNetNode node, WebDavOptions options, ILogger log)
    {
        Volume volume = node.Volume ?? throw new CliException($"{node.DataDirectory} holds no volume key: a storage peer has nothing to serve over WebDAV", ExitCodes.Usage);
        try
        {
            return await WebDavServer.StartAsync(volume, node.DataDirectory, options, log);
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
        {
            throw new CliException($"cannot serve WebDAV on {options.Listen}: the port is in use; choose another with --webdav HOST:PORT", ExitCodes.Unavailable);
        }
    }

    private static FuseHost MountVolume(NexNetNode node, string mountpoint, ILogger log, DateTimeOffset? past = null)
    {
        Volume volume = node.Volume ?? throw new CliException($"{node.DataDirectory} holds no volume key: this node is a storage peer (it stores for others) and has nothing to mount; run it with `nexnet node`", ExitCodes.Usage);
        if (past is { } at)
        {
            return FuseHost.Mount(mountpoint, PastView.At(volume, at, log));
        }

        var fileSystem = new VolumeFileSystem(volume, node.DataDirectory, log);
        FuseHost host = FuseHost.Mount(mountpoint, new WithSnapshotsDirectory(fileSystem, PastView.Moments(volume, log)));
        fileSystem.InvalidatePath = host.InvalidatePath;
        return host;
    }

    private static (NexNetNode, FuseHost) Mount(string data, string mountpoint, NodeOptions options, ILogger log)
    {
        NexNetNode node = NexNetNode.Start(data, options, log);
        try
        {
            return (node, MountVolume(node, mountpoint, log));
        }
        catch
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private static void StartDemo(string demoRoot, string? demoData, TextWriter output, LogLevel level, List<DemoNode> nodes)
    {
        string root = Path.GetFullPath(demoRoot);
        string data = Path.GetFullPath(demoData ?? Path.Combine(root, ".data"));
        Directory.CreateDirectory(data);
        if (EnsureVolume(data))
        {
            output.WriteLine($"nexnet: demo volume keys created in {data}");
        }

        var addresses = new List<string>();
        foreach (string name in new[] { "a", "b", "c" })
        {
            string nodeData = Path.Combine(data, name);
            Directory.CreateDirectory(nodeData);
            ControlServer.RequireNoOtherNode(nodeData);
            foreach (string key in new[] { NexNetNode.NetworkKeyFile, NexNetNode.VolumeKeyFile })
            {
                if (!File.Exists(Path.Combine(nodeData, key)))
                {
                    KeyFile.Write(Path.Combine(nodeData, key), KeyFile.Read(Path.Combine(data, key)));
                }
            }

            string mountpoint = Path.Combine(root, name);
            Directory.CreateDirectory(mountpoint);
            if (FuseHost.MountpointProblem(mountpoint) is { } problem)
            {
                throw new CliException(problem, ExitCodes.Usage);
            }

            var nodeOptions = new NodeOptions
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                Bootstrap = [.. addresses],
                SyncInterval = TimeSpan.FromSeconds(1),
                ReplicationRetry = TimeSpan.FromSeconds(1),
            };
            ILogger log = new ConsoleLogger(level, name);
            (NexNetNode node, FuseHost host) = Mount(nodeData, mountpoint, nodeOptions, log);
            var demo = new DemoNode(node, host);
            nodes.Add(demo);
            demo.Control = ControlServer.Start(node, () => [host.Mountpoint], log);
            addresses.Add(node.Address);
        }
    }

    /// <summary>One of the demo's nodes, its mount and (once started) its control socket.</summary>
    private sealed class DemoNode(NexNetNode node, FuseHost host)
    {
        public NexNetNode Node => node;

        public FuseHost Host => host;

        public ControlServer? Control { get; set; }
    }
}
