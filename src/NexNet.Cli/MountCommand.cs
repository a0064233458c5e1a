using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using NexNet.Crypto;
using NexNet.Fuse;
using NexNet.Node;

namespace NexNet.Cli;

/// <summary>
/// <c>nexnet mount DIR</c>: runs the node and the mount in the foreground until Ctrl+C or SIGTERM, then
/// unmounts cleanly (auto_unmount covers kill -9). <c>--demo ROOT</c> mounts three connected nodes at
/// ROOT/a, ROOT/b and ROOT/c, so a file copied into one shows up in the others.
/// </summary>
internal static class MountCommand
{
    /// <summary>Where data lives without --data: $NEXNET_DATA, else ~/.local/share/nexnet.</summary>
    public static string DefaultDataDirectory =>
        Environment.GetEnvironmentVariable("NEXNET_DATA") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "nexnet");

    public static async Task<int> RunAsync(MountOptions options, TextWriter output)
    {
        ILogger log = new ConsoleLogger(options.Verbose ? LogLevel.Debug : LogLevel.Information);
        var mounts = new List<(NexNetNode Node, FuseHost Host)>();
        try
        {
            if (options.Demo)
            {
                StartDemo(options, output, log, mounts);
            }
            else
            {
                if (FuseHost.MountpointProblem(options.Mountpoint) is { } problem)
                {
                    Console.Error.WriteLine($"nexnet: {problem}");
                    return 2;
                }

                string data = Path.GetFullPath(options.DataDirectory ?? DefaultDataDirectory);
                if (EnsureVolume(data))
                {
                    output.WriteLine($"nexnet: created a new volume in {data} (network.key and volume.key, mode 0600: keep them safe)");
                }

                var nodeOptions = new NodeOptions { Listen = options.Listen, Bootstrap = options.Join };
                mounts.Add(Mount(data, options.Mountpoint, nodeOptions, log));
            }

            foreach ((NexNetNode node, FuseHost host) in mounts)
            {
                output.WriteLine($"nexnet: mounted {host.Mountpoint} (node {node.Id.Abbreviated}, listening on {node.Address})");
            }

            output.WriteLine($"nexnet: stop with Ctrl+C or `kill {Environment.ProcessId}`; files closed before then are kept");
            output.Flush();
            Task unmounted = Task.WhenAny(mounts.Select(m => m.Host.Stopped));
            if (await Task.WhenAny(WaitForStopSignalAsync(), unmounted) == unmounted)
            {
                output.WriteLine("nexnet: unmounted from outside; stopping");
            }

            return 0;
        }
        catch (FuseUnavailableException e)
        {
            Console.Error.WriteLine($"nexnet: {e.Message}");
            return 3;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Console.Error.WriteLine($"nexnet: cannot listen on {options.Listen}: {e.Message} (choose another with --listen HOST:PORT)");
            return 3;
        }
        catch (KeyFileException e)
        {
            Console.Error.WriteLine($"nexnet: {e.Message}");
            return 4;
        }
        finally
        {
            foreach ((NexNetNode node, FuseHost host) in mounts)
            {
                host.Dispose();
                await node.DisposeAsync();
                output.WriteLine($"nexnet: unmounted {host.Mountpoint}");
            }
        }
    }

    /// <summary>Creates the network and volume keys of a fresh volume if the data directory has none. True when it did.</summary>
    public static bool EnsureVolume(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        string network = Path.Combine(dataDirectory, NexNetNode.NetworkKeyFile);
        if (File.Exists(network))
        {
            return false;
        }

        KeyFile.CreateNew(network);
        KeyFile.CreateNew(Path.Combine(dataDirectory, NexNetNode.VolumeKeyFile));
        return true;
    }

    private static (NexNetNode, FuseHost) Mount(string data, string mountpoint, NodeOptions options, ILogger log)
    {
        NexNetNode node = NexNetNode.Start(data, options, log);
        try
        {
            Volume volume = node.Volume ?? throw new FuseUnavailableException($"{data} holds no volume key: this node stores for others and has nothing to mount");
            var fileSystem = new VolumeFileSystem(volume, data, log);
            FuseHost host = FuseHost.Mount(mountpoint, fileSystem);
            fileSystem.InvalidatePath = host.InvalidatePath;
            return (node, host);
        }
        catch
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private static void StartDemo(MountOptions options, TextWriter output, ILogger log, List<(NexNetNode, FuseHost)> mounts)
    {
        string root = Path.GetFullPath(options.Mountpoint);
        string data = Path.GetFullPath(options.DataDirectory ?? Path.Combine(root, ".data"));
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
                throw new FuseUnavailableException(problem);
            }

            var nodeOptions = new NodeOptions
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                Bootstrap = [.. addresses],
                SyncInterval = TimeSpan.FromSeconds(1),
                ReplicationRetry = TimeSpan.FromSeconds(1),
            };
            (NexNetNode node, FuseHost host) = Mount(nodeData, mountpoint, nodeOptions, log);
            mounts.Add((node, host));
            addresses.Add(node.Address);
        }
    }

    private static Task WaitForStopSignalAsync()
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }

        PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handler);
        PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handler);
        return stop.Task.ContinueWith(_ =>
        {
            interrupt.Dispose();
            terminate.Dispose();
        }, TaskScheduler.Default);
    }
}

/// <summary>What <c>nexnet mount</c> was asked to do.</summary>
internal sealed record MountOptions(string Mountpoint, string? DataDirectory, IPEndPoint Listen, IReadOnlyList<string> Join, bool Demo, bool Verbose)
{
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Any, 4747);

    /// <summary>Parses <c>DIR [--data D] [--listen HOST:PORT] [--join HOST:PORT]... [--demo] [--verbose]</c>; null with a reason when it cannot.</summary>
    public static MountOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        string? mountpoint = null, data = null;
        IPEndPoint listen = DefaultListen;
        var join = new List<string>();
        bool demo = false, verbose = false;
        error = null;
        for (int i = 0; i < args.Count; i++)
        {
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--data":
                    data = Next();
                    break;
                case "--listen":
                    if (!IPEndPoint.TryParse(Next() ?? "", out IPEndPoint? parsed))
                    {
                        error = "--listen needs HOST:PORT, e.g. 0.0.0.0:4747 (port 0 picks a free one)";
                        return null;
                    }

                    listen = parsed;
                    break;
                case "--join":
                    join.Add(Next() ?? "");
                    break;
                case "--demo":
                    demo = true;
                    break;
                case "--verbose":
                    verbose = true;
                    break;
                case { } a when a.StartsWith('-'):
                    error = $"unknown option {a}";
                    return null;
                default:
                    if (mountpoint is not null)
                    {
                        error = $"one mountpoint only (got {mountpoint} and {args[i]})";
                        return null;
                    }

                    mountpoint = args[i];
                    break;
            }
        }

        if (mountpoint is null || data == "" || join.Contains(""))
        {
            error = "usage: nexnet mount DIR [--data DIR] [--listen HOST:PORT] [--join HOST:PORT]... [--demo] [--verbose]";
            return null;
        }

        return new MountOptions(mountpoint, data, listen, join, demo, verbose);
    }
}
