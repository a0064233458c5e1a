using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.P2P;
using NexNet.Storage;

namespace NexNet.Cli.Control;

/// <summary>
/// The running node's local endpoint for <c>put</c>, <c>get</c>, <c>ls</c>, <c>rm</c> and <c>status</c>: a Unix
/// socket in the data directory, born owner-only (the node runs under umask 077, and the data directory is
/// 0700), and on Linux each connection's peer is checked with SO_PEERCRED: the node's own user and root are
/// served, anyone else is refused with one log line. It also tells a second node that the data directory is already in use.
/// </summary>
internal sealed partial class ControlServer : IAsyncDisposable
{
    public const string SocketName = "control.sock";

    private readonly NexNetNode _node;
    private readonly Func<IReadOnlyList<string>> _mounts;
    private readonly ILogger _log;
    private readonly Socket _listener;
    private readonly string _path;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ReplicationRate _rate;
    private readonly Task _accepting;

    private ControlServer(NexNetNode node, Func<IReadOnlyList<string>> mounts, ILogger log, Socket listener, string path)
    {
        _node = node;
        _mounts = mounts;
        _log = log;
        _listener = listener;
        _path = path;
        _rate = new ReplicationRate(() => node.Volume?.ReplicationBacklog.Bytes ?? 0, _stopping.Token);
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where the node serves WebDAV, if it does (status shows it).</summary>
    public string? WebDavUrl { get; private init; }

    public static string SocketPath(string dataDirectory) => Path.Combine(dataDirectory, SocketName);

    /// <summary>Fails (<see cref="ExitCodes.Unavailable"/>) when another node already answers on this data directory's socket.</summary>
    public static void RequireNoOtherNode(string dataDirectory)
    {
        if (!IsNodeRunning(dataDirectory))
        {
            return;
        }

        throw new CliException($"a node is already running on {dataDirectory}: stop it first, or use another data directory with --data", ExitCodes.Unavailable);
    }

    /// <summary>True when a node answers on this data directory's control socket (a socket left by a killed node is deleted).</summary>
    public static bool IsNodeRunning(string dataDirectory)
    {
        string path = SocketPath(dataDirectory);
        if (!File.Exists(path))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            File.Delete(path); // left by a node that was killed
            return false;
        }
    }

    public static ControlServer Start(NexNetNode node, Func<IReadOnlyList<string>> mounts, ILogger log, string? webDavUrl = null)
    {
        string path = SocketPath(node.DataDirectory);
        RequireNoOtherNode(node.DataDirectory);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path)); // owner-only from birth: see DataDirectory.MakePrivate
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new ControlServer(node, mounts, log, listener, path) { WebDavUrl = webDavUrl };
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        UnmountPast();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        File.Delete(_path);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        await using var stream = new NetworkStream(client, ownsSocket: true);
        CancellationToken stop = _stopping.Token;
        try
        {
            (int Pid, uint Uid)? peer = PeerCredentials.Of(client);
            JsonObject? request = await ControlFrames.ReadAsync(stream, stop);
            if (peer is { } refused && !PeerCredentials.IsAllowed(refused.Uid))
            {
                Log.ControlRefused(_log, refused.Uid, refused.Pid);
                await ControlFrames.WriteAsync(stream, Error("permission", $"this node serves only the user it runs as and root; uid {refused.Uid} may not use it"), stop);
                return;
            }

            if (request is null)
            {
                return;
            }

            await HandleAsync(request, stream, stop);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ControlFailed(_log, e.Message);
        }
    }

    /// <summary>Returns once this node has a peer, or at once when it has none and dials none.</summary>
    private async Task FirstPeerAsync(CancellationToken cancellationToken)
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnConnected(PeerConnection _) => connected.TrySetResult();
        _node.Network.PeerConnected += OnConnected; // before looking, so a peer arriving in between is not missed
        try
        {
            if (_node.Network.Peers.Count == 0 && _node.Network.DialingAddresses.Count > 0)
            {
                await connected.Task.WaitAsync(cancellationToken); // still dialing the peers it was told about
            }
        }
        finally
        {
            _node.Network.PeerConnected -= OnConnected;
        }
    }

    private async Task HandleAsync(JsonObject request, Stream stream, CancellationToken stop, bool synced = false)
    {
        string op = (string?)request["op"] ?? "";
        JsonObject? response;
        try
        {
            response = op switch
            {
                "status" => Ok(StatusReport.Build(_node, [.. _mounts(), .. PastMountpoints()], _rate.BytesPerSecond, WebDavUrl)),
                "ls" => Ok(new JsonObject { ["entries"] = List(Volume(), PathOf(request)) }),
                "rm" => Remove(Volume(), PathOf(request), (bool?)request["recursive"] ?? false),
                "put" => await PutAsync(Volume(), request, stream, stop),
                "get" => await GetAsync(Volume(), VersionOf(Volume(), request), stream, stop),
                "history" => Ok(new JsonObject { ["versions"] = History(Volume(), PathOf(request)) }),
                "restore" => Restore(Volume(), request),
                "trash" => Ok(new JsonObject { ["entries"] = Trash(Volume(), PathOf(request)) }),
                "snapshot" => Snapshot(Volume(), request),
                "mount-past" => MountPast(Volume(), request),
                _ => Error("usage", $"unknown control operation \"{op}\""),
            };
        }
        catch (VolumeException e) when (e.Error == VolumeError.NotFound && !synced && op is "get" or "ls" or "history")
        {
            // A node that just started (or joined) may not have every record yet: ask the peers, then look again.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
            deadline.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await FirstPeerAsync(deadline.Token);
                await _node.SyncNowAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // No peer answered in time: the path is as missing as it looked.
            }

            await HandleAsync(request, stream, stop, synced: true);
            return;
        }
        catch (VolumeException e)
        {
            response = Error(KindOf(e.Error), e.Message);
        }
        catch (IntegrityException e)
        {
            Log.ControlFailed(_log, e.Message);
            response = Error("integrity", e.Message);
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            Log.ControlFailed(_log, $"{op}: the disk is full");
            response = Error("io", $"the node's disk is full ({_node.DataDirectory}): free some space and try again");
        }

        if (response is not null)
        {
            await ControlFrames.WriteAsync(stream, response, stop);
        }
    }

    private Volume Volume() => _node.Volume ?? throw new VolumeException(VolumeError.NotAMember, "this node is a storage peer: it holds the network key only and cannot read or write the volume");

    private static string PathOf(JsonObject request) => (string?)request["path"] is { Length: > 0 } path ? path : "/";

    private static JsonArray List(Volume volume, string path)
    {
        EntryInfo entry = volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{VolumePath.Normalize(path)} does not exist");
        IEnumerable<EntryInfo> entries = entry.IsDirectory ? volume.List(path) : [entry];
        return [.. entries.Select(e => (JsonNode)new JsonObject
        {
            ["name"] = entry.IsDirectory ? VolumePath.Name(e.Path) : e.Path,
            ["kind"] = e.Kind.ToString().ToLowerInvariant(),
            ["size"] = e.Size,
            ["mode"] = e.Mode,
            ["modified"] = e.ModifiedAt.ToString("O"),
            ["target"] = e.Target,
        })];
    }

    private static JsonObject Remove(Volume volume, string path, bool recursive)
    {
        EntryInfo entry = volume.Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{VolumePath.Normalize(path)} does not exist");
        if (entry.IsDirectory && !recursive)
        {
            return Error("usage", $"{entry.Path} is a directory: use rm -r to delete it and everything in it");
        }

        volume.Delete(path, recursive);
        return Ok(new JsonObject());
    }

    private static async Task<JsonObject> PutAsync(Volume volume, JsonObject request, Stream stream, CancellationToken stop)
    {
        long length = (long?)request["length"] ?? -1;
        if (length < 0)
        {
            return Error("usage", "put needs the file's length");
        }

        uint mode = (uint?)request["mode"] ?? EntryInfo.DefaultFileMode;
        DateTimeOffset? modified = (string?)request["modified"] is { } text ? DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null;
        EntryInfo stored = await volume.WriteFileAsync(PathOf(request), new ExactLengthStream(stream, length), mode, modified, stop);
        return Ok(new JsonObject { ["path"] = stored.Path, ["size"] = stored.Size });
    }

    /// <summary>Sends the header then the bytes of <paramref name="entry"/> (a version: the current one, or one from history); null (nothing more to send) once the bytes went out.</summary>
    private static async Task<JsonObject?> GetAsync(Volume volume, EntryInfo entry, Stream stream, CancellationToken stop)
    {
        if (entry.IsDirectory)
        {
            return Error("usage", $"{entry.Path} is a directory: get copies one file");
        }

        // Read the first chunk before answering, so a chunk nobody has is an error reply, not a cut-off stream.
        await using Stream content = volume.OpenRead(entry);
        byte[] first = new byte[Math.Min(entry.Size, 1 << 20)];
        await content.ReadExactlyAsync(first, stop);
        await ControlFrames.WriteAsync(stream, Ok(new JsonObject { ["length"] = entry.Size, ["mode"] = entry.Mode, ["modified"] = entry.ModifiedAt.ToString("O") }), stop);
        await stream.WriteAsync(first, stop);
        await content.CopyToAsync(stream, 1 << 20, stop);
        await stream.FlushAsync(stop);
        return null;
    }

    private static string KindOf(VolumeError error) => error switch
    {
        VolumeError.NotFound => "not-found",
        VolumeError.Unavailable or VolumeError.NotAMember => "unavailable",
        _ => "usage",
    };

    private static JsonObject Ok(JsonObject body)
    {
        body["ok"] = true;
        return body;
    }

    private static JsonObject Error(string kind, string message) => new() { ["ok"] = false, ["error"] = kind, ["message"] = message };
}
