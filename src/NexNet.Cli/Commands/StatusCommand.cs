using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;
using Spectre.Console;

namespace NexNet.Cli.Commands;

/// <summary><c>status</c>: the running node, its peers, its store, its replication queue and tree sync, as tables, plain lines or JSON.</summary>
internal static class StatusCommand
{
    public static Command Create(GlobalOptions global)
    {
        var watch = new Option<bool>("--watch") { Description = "Then follow the replication queue with a progress bar until it is empty" };
        var command = new Command("status", "What the node running on the data directory is doing") { watch };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string data = global.DataDirectoryOf(result);
            JsonObject status = await ControlClient.StatusAsync(data, cancellationToken);
            if (result.GetValue(global.Json))
            {
                status.Remove("ok");
                Console.WriteLine(status.ToJsonString());
                return ExitCodes.Ok;
            }

            if (TransferProgress.IsTerminal)
            {
                WriteTables(status);
            }
            else
            {
                WritePlain(status);
            }

            if (result.GetValue(watch))
            {
                await WatchReplicationAsync(data, status, cancellationToken);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void WriteTables(JsonObject status)
    {
        var node = new Table().Border(TableBorder.Rounded).Title("node").HideHeaders().AddColumn("").AddColumn("");
        foreach ((string name, string value) in Summary(status))
        {
            node.AddRow(name, Markup.Escape(value));
        }

        AnsiConsole.Write(node);
        var peers = new Table().Border(TableBorder.Rounded).Title("peers").AddColumn("id").AddColumn("address").AddColumn("state").AddColumn(new TableColumn("rtt").RightAligned()).AddColumn("records");
        foreach (JsonNode? peer in status["peers"] as JsonArray ?? [])
        {
            (string id, string address, string state, string rtt, string synced) = PeerRow(peer!);
            peers.AddRow(Markup.Escape(id), Markup.Escape(address), state == "connected" ? "[green]connected[/]" : $"[yellow]{state}[/]", rtt, synced);
        }

        if (peers.Rows.Count == 0)
        {
            peers.AddRow("-", "-", "[yellow]no peers[/]", "", "");
        }

        AnsiConsole.Write(peers);
    }

    private static void WritePlain(JsonObject status)
    {
        foreach ((string name, string value) in Summary(status))
        {
            Console.WriteLine($"{name}: {value}");
        }

        JsonArray peers = status["peers"] as JsonArray ?? [];
        Console.WriteLine($"peers: {peers.Count}");
        foreach (JsonNode? peer in peers)
        {
            (string id, string address, string state, string rtt, string synced) = PeerRow(peer!);
            Console.WriteLine($"  {id} {address} {state} rtt {rtt} records {synced}");
        }
    }

    private static IEnumerable<(string, string)> Summary(JsonObject status)
    {
        JsonNode store = status["store"]!;
        JsonNode replication = status["replication"]!;
        JsonNode tree = status["tree"]!;
        yield return ("node", $"{(string?)status["id"]} ({((bool?)status["member"] == true ? "member" : "storage peer")}, pid {(int?)status["pid"]})");
        yield return ("listening", (string?)status["listen"] ?? "");
        yield return ("data", (string?)status["dataDirectory"] ?? "");
        if ((status["mounts"] as JsonArray)?.Count > 0)
        {
            yield return ("mounted", string.Join(", ", (status["mounts"] as JsonArray)!.Select(m => (string?)m)));
        }

        if ((string?)status["webdav"] is { } webDav)
        {
            yield return ("webdav", webDav);
        }

        long awaitingCheck = (long?)store["replicasUnchecked"] ?? 0;
        yield return ("store", $"{(long?)store["chunks"]} chunks, {Units.Bytes((long?)store["bytes"] ?? 0)}, {((long?)store["cacheLimit"] is { } limit ? $"cache limit {Units.Bytes(limit)}" : "no cache limit")}{((long?)store["quota"] is { } quota ? $", quota {Units.Bytes(quota)} for others' chunks" : "")} (collection removes chunks no file uses)" +
            (awaitingCheck > 0 ? $"; {awaitingCheck} replicas from peers not yet checked" : ""));
        long pendingBytes = (long?)replication["pendingBytes"] ?? 0;
        double rate = (double?)replication["bytesPerSecond"] ?? 0;
        yield return ("replication", $"{(long?)replication["pendingChunks"]} chunks ({Units.Bytes(pendingBytes)}) queued{(rate > 0 ? $", draining at {Units.Bytes((long)rate)}/s" : "")}");
        if (status["space"] is JsonObject space)
        {
            yield return ("space", $"{Units.Bytes((long?)space["freeBytes"] ?? 0)} free, {Units.Bytes((long?)space["reserveBytes"] ?? 0)} of it kept for commits and records; " +
                ((bool?)space["pressure"] == true ? "UNDER PRESSURE: cached copies and the oldest history are given up first" : "no pressure"));
        }

        if (status["history"] is JsonObject history)
        {
            yield return ("history", $"{(long?)history["versions"]} versions kept {((double?)history["retentionDays"] ?? 0).ToString("0.###", CultureInfo.InvariantCulture)} days" +
                $", {(long?)history["chunks"]} chunks ({Units.Bytes((long?)history["bytes"] ?? 0)}) only history keeps, {(long?)history["snapshots"]} snapshots" +
                ((string?)history["oldest"] is { } oldest ? $", oldest from {DateTimeOffset.Parse(oldest, CultureInfo.InvariantCulture).ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}" : ""));
        }

        yield return ("tree", $"{(long?)tree["entries"]} entries, {(long?)tree["records"]} records, {(long?)tree["recordsRejected"]} rejected; {(long?)tree["chunksFetched"]} chunks fetched, {(long?)tree["badChunksRejected"]} bad ones refused");
    }

    private static (string Id, string Address, string State, string Rtt, string Synced) PeerRow(JsonNode peer)
    {
        string id = (string?)peer["id"] is { } full ? full[..Math.Min(12, full.Length)] : "?";
        string rtt = (double?)peer["rttMs"] is { } ms ? ms.ToString("0", CultureInfo.InvariantCulture) + " ms" : "-";
        string synced = (string?)peer["caughtUp"] is { } at
            ? "caught up " + Units.Seconds((DateTimeOffset.UtcNow - DateTimeOffset.Parse(at, CultureInfo.InvariantCulture)).TotalSeconds) + " ago"
            : "not yet";
        return (id, (string?)peer["address"] ?? "", (string?)peer["state"] ?? "", rtt, synced);
    }

    /// <summary>A bar of the replication queue draining (rate and time left), until it is empty.</summary>
    private static async Task WatchReplicationAsync(string data, JsonObject first, CancellationToken cancellationToken)
    {
        long total = (long?)first["replication"]!["pendingBytes"] ?? 0;
        if (total == 0)
        {
            Console.WriteLine("replication: nothing queued");
            return;
        }

        long done = 0;
        await TransferProgress.RunAsync("replicating", Math.Max(total, TransferProgress.Threshold), quiet: false, async report =>
        {
            while (true)
            {
                await Task.Delay(500, cancellationToken);
                long pending = (long?)(await ControlClient.StatusAsync(data, cancellationToken))["replication"]!["pendingBytes"] ?? 0;
                long now = Math.Max(0, total - pending);
                if (now > done)
                {
                    report(now - done);
                    done = now;
                }

                if (pending == 0)
                {
                    report(Math.Max(total, TransferProgress.Threshold) - done);
                    return;
                }
            }
        });
        Console.WriteLine("replication: every queued chunk has its copies");
    }
}
