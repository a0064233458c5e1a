using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;

namespace NexNet.Cli.Commands;

/// <summary><c>history</c>, <c>restore</c>, <c>trash</c> and <c>snapshot</c>: the volume's past, through the running node's control socket.</summary>
internal static class HistoryCommands
{
    public static Command History(GlobalOptions global)
    {
        var path = new Argument<string>("PATH") { Description = "A file or directory in the volume (deleted ones too)" };
        var command = new Command("history", "List every version of a path history holds: time, device, size and what changed") { path };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            JsonObject reply = await RequestAsync(global, result, new JsonObject { ["op"] = "history", ["path"] = result.GetValue(path) }, cancellationToken);
            JsonArray versions = reply["versions"] as JsonArray ?? [];
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(versions.ToJsonString());
                return ExitCodes.Ok;
            }

            PrintColumns(["#", "time", "device", "size", "change"], versions.Select(v => new[]
            {
                ((int?)v!["version"] ?? 0).ToString(CultureInfo.InvariantCulture),
                LocalTime((string?)v["at"]),
                ((string?)v["device"] ?? "?")[..Math.Min(8, ((string?)v["device"] ?? "?").Length)],
                (string?)v["kind"] == "file" && (string?)v["change"] != "deleted" ? ((long?)v["size"] ?? 0).ToString(CultureInfo.InvariantCulture) : "-",
                (string?)v["change"] + ((string?)v["kind"] is "directory" or "symlink" ? $" ({(string?)v["kind"]})" : ""),
            }));
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Restore(GlobalOptions global)
    {
        var path = new Argument<string>("PATH") { Description = "What to bring back (a file, or with -r a directory tree)" };
        var at = new Option<string?>("--at") { Description = "The moment to bring it back from: ISO 8601, \"2 hours ago\", \"yesterday 17:00\"" };
        var version = new Option<int?>("--version") { Description = "The version number to bring back (see nexnet history)" };
        var to = new Option<string?>("--to") { Description = "Where in the volume to put it (default: where it was)" };
        var recursive = new Option<bool>("-r", "--recursive") { Description = "A directory with everything that was in it then, deleted files included" };
        var command = new Command("restore", "Bring a path back as it was: a new version, so history keeps what is there now") { path, at, version, to, recursive };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string? when = result.GetValue(at);
            int? number = result.GetValue(version);
            if ((when is null) == (number is null))
            {
                throw new CliException("restore takes one of --at TIME or --version N", ExitCodes.Usage);
            }

            var request = new JsonObject { ["op"] = "restore", ["path"] = result.GetValue(path), ["to"] = result.GetValue(to), ["recursive"] = result.GetValue(recursive) };
            DateTimeOffset? moment = null;
            if (when is not null)
            {
                moment = TimeExpression.Parse(when, DateTimeOffset.Now, TimeZoneInfo.Local);
                request["at"] = moment.Value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
            }
            else
            {
                request["version"] = number;
            }

            JsonObject reply = await RequestAsync(global, result, request, cancellationToken);
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(reply.ToJsonString());
            }
            else
            {
                string from = moment is { } m ? $"as it was at {m.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}" : $"version {number}";
                Console.WriteLine($"nexnet: restored {(string?)reply["path"]} {from} ({(int?)reply["restored"] ?? 0} entries changed)");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Trash(GlobalOptions global)
    {
        var path = new Argument<string?>("DIR") { Description = "Where to look (default /, the whole volume)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("trash", "List deleted files history can still bring back (nexnet restore PATH --at TIME)") { path };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            JsonObject reply = await RequestAsync(global, result, new JsonObject { ["op"] = "trash", ["path"] = result.GetValue(path) ?? "/" }, cancellationToken);
            JsonArray entries = reply["entries"] as JsonArray ?? [];
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(entries.ToJsonString());
                return ExitCodes.Ok;
            }

            PrintColumns(["deleted", "size", "path"], entries.Select(e => new[]
            {
                LocalTime((string?)e!["deletedAt"]),
                (string?)e["kind"] == "file" ? ((long?)e["size"] ?? 0).ToString(CultureInfo.InvariantCulture) : "-",
                (string?)e["path"] + ((string?)e["kind"] == "directory" ? "/" : ""),
            }));
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Snapshot(GlobalOptions global)
    {
        var command = new Command("snapshot", "Pin the whole volume as it is now, on every node, until the snapshot is deleted");
        var createName = new Argument<string>("NAME") { Description = "A name for this moment" };
        var create = new Command("create", "Pin the volume as it is now") { createName };
        create.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            JsonObject reply = await RequestAsync(global, result, new JsonObject { ["op"] = "snapshot", ["action"] = "create", ["name"] = result.GetValue(createName) }, cancellationToken);
            Console.WriteLine(result.GetValue(global.Json) ? reply.ToJsonString() : $"nexnet: snapshot {(string?)reply["name"]} pins the volume as at {LocalTime((string?)reply["at"])}");
            return ExitCodes.Ok;
        }));
        var deleteName = new Argument<string>("NAME") { Description = "The snapshot to let go of" };
        var delete = new Command("delete", "Let go of a snapshot: what only it kept goes at the next pruning") { deleteName };
        delete.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            await RequestAsync(global, result, new JsonObject { ["op"] = "snapshot", ["action"] = "delete", ["name"] = result.GetValue(deleteName) }, cancellationToken);
            if (!result.GetValue(global.Json))
            {
                Console.WriteLine($"nexnet: deleted snapshot {result.GetValue(deleteName)}");
            }

            return ExitCodes.Ok;
        }));
        var list = new Command("ls", "List the snapshots, oldest first");
        list.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            JsonObject reply = await RequestAsync(global, result, new JsonObject { ["op"] = "snapshot", ["action"] = "ls" }, cancellationToken);
            JsonArray snapshots = reply["snapshots"] as JsonArray ?? [];
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(snapshots.ToJsonString());
            }
            else
            {
                PrintColumns(["name", "time"], snapshots.Select(s => new[] { (string?)s!["name"] ?? "", LocalTime((string?)s["at"]) }));
            }

            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(create);
        command.Subcommands.Add(delete);
        command.Subcommands.Add(list);
        return command;
    }

    private static async Task<JsonObject> RequestAsync(GlobalOptions global, ParseResult result, JsonObject request, CancellationToken cancellationToken)
    {
        await using ControlClient client = await ControlClient.ConnectAsync(global.DataDirectoryOf(result), cancellationToken);
        return await client.RequestAsync(request, null, cancellationToken);
    }

    private static string LocalTime(string? utc) =>
        utc is null ? "" : DateTimeOffset.Parse(utc, CultureInfo.InvariantCulture).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Left-aligned columns, sizes right-aligned, one header line.</summary>
    private static void PrintColumns(string[] header, IEnumerable<string[]> rows)
    {
        List<string[]> all = [header, .. rows];
        int[] widths = [.. Enumerable.Range(0, header.Length).Select(i => all.Max(r => r[i].Length))];
        foreach (string[] row in all)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, i) =>
                i == row.Length - 1 ? cell : header[i] is "size" or "#" ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
