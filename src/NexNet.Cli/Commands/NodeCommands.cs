using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;
using NexNet.Node;

namespace NexNet.Cli.Commands;

/// <summary><c>node</c>, <c>mount</c>, <c>unmount</c> and <c>demo</c>: running the node.</summary>
internal static class NodeCommands
{
    public static Command Node(GlobalOptions global)
    {
        var background = BackgroundOption();
        var webDav = new WebDavFlags();
        var command = new Command("node", "Run the node without a mount (a storage peer, or a member that only serves and replicates)") { background };
        webDav.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string data = global.DataDirectoryOf(result);
            DataDirectory.RequireInitialised(data);
            DataDirectory.MakePrivate(data);
            NodeConfig config = NodeConfig.Load(data);
            NodeOptions options = config.ToNodeOptions(result.GetValue(global.Listen), global.JoinOf(result));
            return result.GetValue(background)
                ? await Background.StartAsync(data, null, cancellationToken)
                : await MountCommand.RunAsync(data, options, null, result.GetValue(global.Verbose), Console.Out, webDav.OptionsOf(result, config));
        }));
        return command;
    }

    public static Command Mount(GlobalOptions global)
    {
        var directory = new Argument<string>("DIR") { Description = "An empty directory to mount the volume at (with --demo: where a, b and c go)" };
        var demo = new Option<bool>("--demo") { Description = "Mount three connected demo nodes at DIR/a, DIR/b and DIR/c" };
        var background = BackgroundOption();
        var webDav = new WebDavFlags();
        var at = new Option<string?>("--at") { Description = "Mount the volume read-only as it was at TIME (ISO 8601, \"2 hours ago\", \"yesterday 17:00\"); served by the running node if there is one" };
        var command = new Command("mount", "Mount the volume at DIR and run the node (the first run in a new data directory creates a volume)") { directory, demo, background, at };
        webDav.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string mountpoint = Path.GetFullPath(result.GetValue(directory)!);
            bool verbose = result.GetValue(global.Verbose);
            if (result.GetValue(demo))
            {
                return await MountCommand.RunDemoAsync(mountpoint, result.GetValue(global.Data), verbose, Console.Out);
            }

            string data = global.DataDirectoryOf(result);
            if (Directory.Exists(data))
            {
                DataDirectory.RequireAccess(data);
            }

            DateTimeOffset? past = result.GetValue(at) is { } when ? TimeExpression.Parse(when, DateTimeOffset.Now, TimeZoneInfo.Local) : null;
            if (past is { } moment && ControlServer.IsNodeRunning(data))
            {
                await using ControlClient client = await ControlClient.ConnectAsync(data, cancellationToken);
                await client.RequestAsync(new JsonObject { ["op"] = "mount-past", ["directory"] = mountpoint, ["at"] = moment.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) }, null,
                    cancellationToken);
                Console.WriteLine($"nexnet: mounted {mountpoint} read-only as the volume was at {moment.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} (served by the running node; nexnet unmount {mountpoint} when done)");
                return ExitCodes.Ok;
            }

            if (result.GetValue(background))
            {
                return await Background.StartAsync(data, mountpoint, cancellationToken);
            }

            if (NexNet.Fuse.FuseHost.MountpointProblem(mountpoint) is { } problem)
            {
                throw new CliException(problem, ExitCodes.Usage);
            }

            bool created = MountCommand.EnsureVolume(data);
            DataDirectory.MakePrivate(data);
            if (created)
            {
                new NodeConfig().Save(data);
                Console.WriteLine($"nexnet: created a new volume in {data} (network.key and volume.key, mode 0600: keep them safe)");
            }

            NodeConfig config = NodeConfig.Load(data);
            NodeOptions options = config.ToNodeOptions(result.GetValue(global.Listen), global.JoinOf(result));
            return await MountCommand.RunAsync(data, options, mountpoint, verbose, Console.Out, webDav.OptionsOf(result, config), past);
        }));
        return command;
    }

    public static Command Unmount(GlobalOptions global)
    {
        var directory = new Argument<string>("DIR") { Description = "Where the volume is mounted" };
        var command = new Command("unmount", "Unmount a NexNet mount; its node stops once files are committed") { directory };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string mountpoint = Path.GetFullPath(result.GetValue(directory)!);
            string? type = File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 2 && Unescape(f[1]) == mountpoint).Select(f => f[2]).LastOrDefault();
            if (type is null)
            {
                throw new CliException($"nothing is mounted at {mountpoint}", ExitCodes.NotFound);
            }

            if (type != "fuse.nexnet")
            {
                throw new CliException($"{mountpoint} is a {type} mount, not NexNet's: unmount it with umount", ExitCodes.Usage);
            }

            var start = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(mountpoint);
            using Process process = Process.Start(start) ?? throw new CliException("could not run fusermount3 (install the fuse3 package)", ExitCodes.Unavailable);
            string error = await process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw error.Contains("busy", StringComparison.OrdinalIgnoreCase)
                    ? new CliException($"{mountpoint} is busy: a program has a file or its working directory there; close it (see `fuser -vm {mountpoint}`) and try again", ExitCodes.Unavailable)
                    : new CliException($"fusermount3 could not unmount {mountpoint}: {error.Trim()}", ExitCodes.Unavailable);
            }

            Console.WriteLine($"nexnet: unmounted {mountpoint}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Demo()
    {
        var ports = new Option<string?>("--ports") { Description = "The three listen ports, P1,P2,P3 (default 3000,4000,5000; 0 picks free ones)" };
        var command = new Command("demo", "The original three-node demo in one process: store, read through another node, delete everywhere — narrated") { ports };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            int[] chosen = NexNet.Cli.Demo.DefaultPorts;
            if (result.GetValue(ports) is { } text)
            {
                chosen = NexNet.Cli.Demo.TryParsePorts(text, out int[]? parsed)
                    ? parsed
                    : throw new CliException($"--ports needs three ports separated by commas, e.g. 3000,4000,5000; got \"{text}\"", ExitCodes.Usage);
            }

            return await NexNet.Cli.Demo.RunAsync(Console.Out, chosen, cancellationToken);
        }));
        return command;
    }

    private static Option<bool> BackgroundOption() => new("--background")
    {
        Description = "Start in the background, return once it is up, and say how to stop it",
    };

    /// <summary>/proc/mounts escapes spaces and a few other bytes as octal (\040).</summary>
    private static string Unescape(string field) => System.Text.RegularExpressions.Regex.Replace(field, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());
}
