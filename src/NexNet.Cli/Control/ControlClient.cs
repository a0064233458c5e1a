using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace NexNet.Cli.Control;

/// <summary>One request to the node running on a data directory, over its control socket.</summary>
internal sealed class ControlClient : IAsyncDisposable
{
    private readonly NetworkStream _stream;

    private ControlClient(NetworkStream stream) => _stream = stream;

    /// <summary>The connection's stream, for a put's or get's file bytes.</summary>
    public Stream Stream => _stream;

    /// <summary>Connects, or fails with one line saying no node is running (or the data directory is missing or not this user's).</summary>
    public static async Task<ControlClient> ConnectAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        DataDirectory.RequireInitialised(dataDirectory);
        string path = ControlServer.SocketPath(dataDirectory);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw e.SocketErrorCode == SocketError.AccessDenied
                ? DataDirectory.PermissionDenied(dataDirectory)
                : new CliException($"no node is running on {dataDirectory}: start one with `nexnet node` (or `nexnet mount DIR`) and try again", ExitCodes.Unavailable);
        }

        return new ControlClient(new NetworkStream(socket, ownsSocket: true));
    }

    /// <summary>Sends <paramref name="request"/> (then whatever <paramref name="sendBody"/> writes) and returns the reply; a failure reply becomes its <see cref="CliException"/>.</summary>
    public async Task<JsonObject> RequestAsync(JsonObject request, Func<Stream, Task>? sendBody, CancellationToken cancellationToken)
    {
        await ControlFrames.WriteAsync(_stream, request, cancellationToken);
        Task<JsonObject?> reply = ControlFrames.ReadAsync(_stream, cancellationToken, ControlFrames.MaxReply);
        if (sendBody is not null)
        {
            try
            {
                await sendBody(_stream);
            }
            catch (IOException)
            {
                // The node stopped reading; if it answered (a full disk, say), its reply says why.
                if (await Task.WhenAny(reply, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)) != reply)
                {
                    throw;
                }
            }
        }

        return Check(await reply);
    }

    /// <summary>The running node's status, as <c>status --json</c> prints it.</summary>
    public static async Task<JsonObject> StatusAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        await using ControlClient client = await ConnectAsync(dataDirectory, cancellationToken);
        return await client.RequestAsync(new JsonObject { ["op"] = "status" }, null, cancellationToken);
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    private static JsonObject Check(JsonObject? reply)
    {
        if (reply is null)
        {
            throw new CliException("the node closed the connection without answering: see its log (logs/nexnet.log in the data directory)", ExitCodes.Unavailable);
        }

        if ((bool?)reply["ok"] == true)
        {
            return reply;
        }

        string message = (string?)reply["message"] ?? "the node refused the request";
        int code = (string?)reply["error"] switch
        {
            "not-found" => ExitCodes.NotFound,
            "usage" => ExitCodes.Usage,
            "integrity" => ExitCodes.Integrity,
            "io" => ExitCodes.IO,
            "unavailable" => ExitCodes.Unavailable,
            "permission" => ExitCodes.Permission,
            _ => ExitCodes.Internal,
        };
        throw new CliException(message, code);
    }
}
