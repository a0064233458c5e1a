using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;
using NexNet.Node;
using Spectre.Console;

namespace NexNet.Cli.Commands;

/// <summary><c>put</c>, <c>get</c>, <c>ls</c> and <c>rm</c>: files in the volume, through the running node's control socket.</summary>
internal static class FileCommands
{
    private const int BufferSize = 1 << 20;

    public static Command Put(GlobalOptions global)
    {
        var local = new Argument<string>("LOCAL") { Description = "The local file to store" };
        var path = new Argument<string?>("PATH") { Description = "Where in the volume (default: /NAME; a path ending in / puts it inside)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("put", "Store a local file in the volume") { local, path };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string source = result.GetValue(local)!;
            var file = new FileInfo(source);
            if (Directory.Exists(source))
            {
                throw new CliException($"{source} is a directory: put stores one file (copy a tree into a mount with cp -r)", ExitCodes.Usage);
            }

            if (!file.Exists)
            {
                throw new CliException($"{source} does not exist", ExitCodes.NotFound);
            }

            string target = result.GetValue(path) is { Length: > 0 } given ? (given.EndsWith('/') ? given + file.Name : given) : "/" + file.Name;
            FileStream input;
            try
            {
                input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0);
            }
            catch (UnauthorizedAccessException)
            {
                throw new CliException($"permission denied reading {source}", ExitCodes.Permission);
            }

            await using (input)
            {
                long length = input.Length;
                var started = System.Diagnostics.Stopwatch.StartNew();
                await using ControlClient client = await ControlClient.ConnectAsync(global.DataDirectoryOf(result), cancellationToken);
                var request = new JsonObject
                {
                    ["op"] = "put",
                    ["path"] = target,
                    ["length"] = length,
                    ["mode"] = OperatingSystem.IsWindows() ? EntryInfo.DefaultFileMode : (uint)File.GetUnixFileMode(source) & 0xFFF,
                    ["modified"] = file.LastWriteTimeUtc.ToString("O", CultureInfo.InvariantCulture),
                };
                JsonObject reply = null!;
                await TransferProgress.RunAsync($"put {target}", length, result.GetValue(global.Json), async report =>
                {
                    reply = await client.RequestAsync(request, stream => CopyAsync(input, stream, length, report, cancellationToken), cancellationToken);
                });
                Summarise(result, global, "stored", (string?)reply["path"] ?? target, length, started.Elapsed);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Get(GlobalOptions global)
    {
        var path = new Argument<string>("PATH") { Description = "The file in the volume" };
        var local = new Argument<string?>("LOCAL") { Description = "Where to write it (default: ./NAME; a directory puts it inside; - writes to stdout)", Arity = ArgumentArity.ZeroOrOne };
        var at = new Option<string?>("--at") { Description = "The file as it was at TIME (see restore)" };
        var version = new Option<int?>("--version") { Description = "Version N of the file (see nexnet history)" };
        var command = new Command("get", "Copy a file out of the volume (fetched from peers if this node has no copy), or one of its past versions") { path, local, at, version };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string source = result.GetValue(path)!;
            var request = new JsonObject { ["op"] = "get", ["path"] = source };
            if (result.GetValue(at) is { } when)
            {
                request["at"] = TimeExpression.Parse(when, DateTimeOffset.Now, TimeZoneInfo.Local).ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
            }

            if (result.GetValue(version) is { } number)
            {
                request["version"] = number;
            }

            string name = VolumePath.Name(VolumePath.Normalize(source));
            string target = result.GetValue(local) ?? name;
            bool toStdout = target == "-";
            if (!toStdout && Directory.Exists(target))
            {
                target = Path.Combine(target, name);
            }

            var started = System.Diagnostics.Stopwatch.StartNew();
            await using ControlClient client = await ControlClient.ConnectAsync(global.DataDirectoryOf(result), cancellationToken);
            JsonObject header = await client.RequestAsync(request, null, cancellationToken);
            long length = (long?)header["length"] ?? 0;
            if (toStdout)
            {
                await using Stream stdout = Console.OpenStandardOutput();
                await CopyAsync(client.Stream, stdout, length, _ => { }, cancellationToken);
                return ExitCodes.Ok;
            }

            string partial = target + ".nexnet-part";
            try
            {
                await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 0))
                {
                    await TransferProgress.RunAsync($"get {source}", length, result.GetValue(global.Json), report => CopyAsync(client.Stream, output, length, report, cancellationToken));
                    await output.FlushAsync(cancellationToken);
                }

                if ((string?)header["modified"] is { } modified)
                {
                    File.SetLastWriteTimeUtc(partial, DateTimeOffset.Parse(modified, CultureInfo.InvariantCulture).UtcDateTime);
                }

                File.Move(partial, target, overwrite: true);
            }
            catch (UnauthorizedAccessException)
            {
                throw new CliException($"permission denied writing {target}", ExitCodes.Permission);
            }
            finally
            {
                File.Delete(partial); // nothing half-written stays behind
            }

            Summarise(result, global, "copied", target, length, started.Elapsed);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command List(GlobalOptions global)
    {
        var path = new Argument<string?>("PATH") { Description = "A directory or file in the volume (default /)", Arity = ArgumentArity.ZeroOrOne };
        var longFormat = new Option<bool>("-l") { Description = "Mode, size and modification time too" };
        var command = new Command("ls", "List a directory of the volume") { path, longFormat };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            await using ControlClient client = await ControlClient.ConnectAsync(global.DataDirectoryOf(result), cancellationToken);
            JsonObject reply = await client.RequestAsync(new JsonObject { ["op"] = "ls", ["path"] = result.GetValue(path) ?? "/" }, null, cancellationToken);
            JsonArray entries = reply["entries"] as JsonArray ?? [];
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(entries.ToJsonString());
            }
            else if (!result.GetValue(longFormat))
            {
                foreach (JsonNode? entry in entries)
                {
                    Console.WriteLine(NameOf(entry!));
                }
            }
            else
            {
                PrintLong(entries);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Remove(GlobalOptions global)
    {
        var path = new Argument<string>("PATH") { Description = "The file or directory to delete (everywhere: the deletion replicates)" };
        var recursive = new Option<bool>("-r", "--recursive") { Description = "Delete a directory and everything in it" };
        var command = new Command("rm", "Delete a file, or with -r a directory tree, from the volume") { path, recursive };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            await using ControlClient client = await ControlClient.ConnectAsync(global.DataDirectoryOf(result), cancellationToken);
            await client.RequestAsync(new JsonObject { ["op"] = "rm", ["path"] = result.GetValue(path), ["recursive"] = result.GetValue(recursive) }, null, cancellationToken);
            if (!result.GetValue(global.Json))
            {
                Console.WriteLine($"nexnet: deleted {VolumePath.Normalize(result.GetValue(path)!)}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task CopyAsync(Stream from, Stream to, long length, Action<long> report, CancellationToken cancellationToken)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long remaining = length;
            while (remaining > 0)
            {
                int read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                if (read == 0)
                {
                    throw new CliException($"the transfer stopped {remaining} bytes short of {length}: the file changed or the node stopped; try again", ExitCodes.IO);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                remaining -= read;
                report(read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Summarise(ParseResult result, GlobalOptions global, string verb, string where, long length, TimeSpan elapsed)
    {
        double rate = length / Math.Max(elapsed.TotalSeconds, 0.001);
        if (result.GetValue(global.Json))
        {
            Console.WriteLine(new JsonObject { ["path"] = where, ["bytes"] = length, ["seconds"] = Math.Round(elapsed.TotalSeconds, 3) }.ToJsonString());
        }
        else
        {
            Console.WriteLine($"nexnet: {verb} {where} ({Units.Bytes(length)} in {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s, {Units.Bytes((long)rate)}/s)");
        }
    }

    private static string NameOf(JsonNode entry) =>
        (string?)entry["name"] + ((string?)entry["kind"] == "directory" ? "/" : (string?)entry["kind"] == "symlink" ? " -> " + (string?)entry["target"] : "");

    private static void PrintLong(JsonArray entries)
    {
        var rows = entries.Select(e => (
            Mode: ModeString((string?)e!["kind"], (uint?)e["mode"] ?? 0),
            Size: ((long?)e["size"] ?? 0).ToString(CultureInfo.InvariantCulture),
            Modified: DateTimeOffset.Parse((string?)e["modified"] ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture).ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            Name: NameOf(e))).ToList();
        if (TransferProgress.IsTerminal)
        {
            var table = new Table().Border(TableBorder.Simple).AddColumn("mode").AddColumn(new TableColumn("size").RightAligned()).AddColumn("modified").AddColumn("name");
            foreach (var row in rows)
            {
                table.AddRow(row.Mode, row.Size, row.Modified, Markup.Escape(row.Name));
            }

            AnsiConsole.Write(table);
            return;
        }

        int sizeWidth = rows.Count == 0 ? 1 : rows.Max(r => r.Size.Length);
        foreach (var row in rows)
        {
            Console.WriteLine($"{row.Mode} {row.Size.PadLeft(sizeWidth)} {row.Modified} {row.Name}");
        }
    }

    private static string ModeString(string? kind, uint mode)
    {
        char type = kind switch { "directory" => 'd', "symlink" => 'l', _ => '-' };
        var chars = new char[10];
        chars[0] = type;
        const string letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
        {
            chars[i + 1] = (mode & (1u << (8 - i))) != 0 ? letters[i] : '-';
        }

        return new string(chars);
    }
}
