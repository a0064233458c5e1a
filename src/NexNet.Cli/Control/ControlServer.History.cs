using System.Globalization;
using System.Text.Json.Nodes;
using NexNet.Fuse;
using NexNet.Node;

namespace NexNet.Cli.Control;

/// <summary>The control operations of history: versions of a path, restore, the trash and snapshots.</summary>
internal sealed partial class ControlServer
{
    private static JsonArray History(Volume volume, string path)
    {
        IReadOnlyList<HistoryVersion> versions = volume.History(path);
        if (versions.Count == 0)
        {
            throw new VolumeException(VolumeError.NotFound, $"{VolumePath.Normalize(path)} has no history (it never existed, or its versions were pruned)");
        }

        return [.. versions.Select(v => (JsonNode)new JsonObject
        {
            ["version"] = v.Number,
            ["at"] = Time(v.At),
            ["device"] = v.Device?.ToString(),
            ["change"] = v.Change.ToString().ToLowerInvariant(),
            ["kind"] = v.Entry.Kind.ToString().ToLowerInvariant(),
            ["size"] = v.Deleted ? 0 : v.Entry.Size,
            ["mode"] = v.Entry.Mode,
            ["modified"] = Time(v.Entry.ModifiedAt),
            ["replacedAt"] = v.ReplacedAt is { } replaced ? Time(replaced) : null,
        })];
    }

    /// <summary>The version of the request's path it names: "version" N, the one current "at" a time, or (neither) the current one.</summary>
    private static EntryInfo VersionOf(Volume volume, JsonObject request)
    {
        string path = PathOf(request);
        string missing = $"{VolumePath.Normalize(path)} does not exist";
        if ((int?)request["version"] is { } number)
        {
            return volume.LiveVersion(path, number).Entry;
        }

        if ((string?)request["at"] is { } at)
        {
            DateTimeOffset moment = DateTimeOffset.Parse(at, CultureInfo.InvariantCulture);
            return volume.StatAt(path, moment) ?? throw new VolumeException(VolumeError.NotFound, $"{missing} at {moment:u}");
        }

        return volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, missing);
    }

    private static JsonObject Restore(Volume volume, JsonObject request)
    {
        string path = PathOf(request);
        string? to = (string?)request["to"];
        if ((int?)request["version"] is { } number)
        {
            EntryInfo restored = volume.RestoreVersion(path, number, to);
            return Ok(new JsonObject { ["restored"] = 1, ["path"] = restored.Path });
        }

        if ((string?)request["at"] is not { } text)
        {
            return Error("usage", "restore needs --at TIME or --version N");
        }

        DateTimeOffset at = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
        int count = volume.Restore(path, at, to, (bool?)request["recursive"] ?? false);
        return Ok(new JsonObject { ["restored"] = count, ["path"] = VolumePath.Normalize(to ?? path) });
    }

    private static JsonArray Trash(Volume volume, string path) =>
        [.. volume.Trash(path).Select(t => (JsonNode)new JsonObject
        {
            ["path"] = t.Entry.Path,
            ["kind"] = t.Entry.Kind.ToString().ToLowerInvariant(),
            ["size"] = t.Entry.Size,
            ["deletedAt"] = Time(t.DeletedAt),
        })];

    private static JsonObject Snapshot(Volume volume, JsonObject request)
    {
        string name = (string?)request["name"] ?? "";
        switch ((string?)request["action"])
        {
            case "create":
                VolumeSnapshot made = volume.CreateSnapshot(name);
                return Ok(new JsonObject { ["name"] = made.Name, ["at"] = Time(made.At) });
            case "delete":
                volume.DeleteSnapshot(name);
                return Ok(new JsonObject { ["name"] = name });
            default:
                return Ok(new JsonObject { ["snapshots"] = new JsonArray([.. volume.Snapshots().Select(s => (JsonNode)new JsonObject { ["name"] = s.Name, ["at"] = Time(s.At) })]) });
        }
    }

    /// <summary>Read-only mounts of the past this node serves (<c>nexnet mount DIR --at TIME</c> while it runs), until unmounted or the node stops.</summary>
    private readonly List<FuseHost> _pastMounts = [];

    private JsonObject MountPast(Volume volume, JsonObject request)
    {
        string directory = (string?)request["directory"] ?? "";
        if (FuseHost.MountpointProblem(directory) is { } problem)
        {
            return Error("usage", problem);
        }

        DateTimeOffset at = DateTimeOffset.Parse((string?)request["at"] ?? "", CultureInfo.InvariantCulture);
        FuseHost host = FuseHost.Mount(directory, PastView.At(volume, at, _log));
        lock (_pastMounts)
        {
            _pastMounts.Add(host);
        }

        host.Stopped.ContinueWith(_ =>
        {
            lock (_pastMounts)
            {
                _pastMounts.Remove(host);
            }

            host.Dispose();
        }, TaskScheduler.Default);
        return Ok(new JsonObject { ["directory"] = host.Mountpoint, ["at"] = Time(at) });
    }

    private IReadOnlyList<string> PastMountpoints()
    {
        lock (_pastMounts)
        {
            return [.. _pastMounts.Select(h => h.Mountpoint)];
        }
    }

    private void UnmountPast()
    {
        List<FuseHost> hosts;
        lock (_pastMounts)
        {
            hosts = [.. _pastMounts];
            _pastMounts.Clear();
        }

        foreach (FuseHost host in hosts)
        {
            host.Dispose();
        }
    }

    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
