using System.CommandLine;
using System.Net.Sockets;
using NexNet.Cli.Commands;
using NexNet.Crypto;
using NexNet.Fuse;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Cli;

/// <summary>
/// The <c>nexnet</c> command tree. Every failure reaches the user as one line on stderr, <c>nexnet: what
/// happened: what to do</c>, with an exit code from <see cref="ExitCodes"/>; a stack trace only for a bug.
/// </summary>
internal static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        RootCommand root = Build();
        ParseResult parsed = root.Parse(args);
        if (UsageError(root, parsed) is { } error)
        {
            Console.Error.WriteLine(error);
            return ExitCodes.Usage;
        }

        // Ctrl+C and SIGTERM are the node's and mount's own business (a clean unmount can take a while).
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>The command tree, without running anything.</summary>
    internal static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("NexNet.Fs: a peer-to-peer, end-to-end encrypted file store you use as a folder");
        global.AddTo(root);
        root.Subcommands.Add(SetupCommands.Init(global));
        root.Subcommands.Add(SetupCommands.Invite(global));
        root.Subcommands.Add(SetupCommands.Join(global));
        root.Subcommands.Add(NodeCommands.Node(global));
        root.Subcommands.Add(NodeCommands.Mount(global));
        root.Subcommands.Add(NodeCommands.Unmount(global));
        root.Subcommands.Add(FileCommands.Put(global));
        root.Subcommands.Add(FileCommands.Get(global));
        root.Subcommands.Add(FileCommands.List(global));
        root.Subcommands.Add(FileCommands.Remove(global));
        root.Subcommands.Add(HistoryCommands.History(global));
        root.Subcommands.Add(HistoryCommands.Restore(global));
        root.Subcommands.Add(HistoryCommands.Trash(global));
        root.Subcommands.Add(HistoryCommands.Snapshot(global));
        root.Subcommands.Add(StatusCommand.Create(global));
        root.Subcommands.Add(NodeCommands.Demo());
        return root;
    }

    /// <summary>The one line a mistake in <paramref name="args"/> is answered with, or null when they are understood.</summary>
    internal static string? UsageError(RootCommand root, IReadOnlyList<string> args) => UsageError(root, root.Parse(args));

    private static string? UsageError(RootCommand root, ParseResult parsed)
    {
        // First: no command at all is not a parse error to repeat ("Required command was not provided").
        if (parsed.CommandResult.Command == root && parsed.Tokens.Count == 0)
        {
            return "nexnet: say what to do, e.g. `nexnet init`, `nexnet mount DIR`, `nexnet status` (see `nexnet --help`)";
        }

        if (parsed.Errors.Count > 0)
        {
            Command command = parsed.CommandResult.Command;
            return $"nexnet: {parsed.Errors[0].Message} (see `nexnet{(command == root ? "" : " " + command.Name)} --help`)";
        }

        return null;
    }

    /// <summary>Runs a command's body and turns what it throws into one line and an exit code.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliException e)
        {
            return Fail(e.Message, e.ExitCode);
        }
        catch (KeyFileException e)
        {
            return Fail(e.Message, ExitCodes.Integrity);
        }
        catch (IntegrityException e)
        {
            return Fail(e.Message, ExitCodes.Integrity);
        }
        catch (FuseUnavailableException e)
        {
            return Fail(e.Message, ExitCodes.Unavailable);
        }
        catch (VolumeException e)
        {
            return Fail(e.Message, e.Error == VolumeError.NotFound ? ExitCodes.NotFound : e.Error is VolumeError.Unavailable or VolumeError.NotAMember ? ExitCodes.Unavailable : ExitCodes.Usage);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail($"permission denied: {e.Message}", ExitCodes.Permission);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return Fail($"the port is already in use ({e.Message}): choose another with --listen HOST:PORT (port 0 picks a free one)", ExitCodes.Unavailable);
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            return Fail($"the disk is full: {e.Message}", ExitCodes.IO);
        }
        catch (IOException e)
        {
            return Fail(e.Message, ExitCodes.IO);
        }
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"nexnet: {message}");
        return code;
    }
}
