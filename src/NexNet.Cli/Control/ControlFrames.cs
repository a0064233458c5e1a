using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace NexNet.Cli.Control;

/// <summary>
/// The control socket's framing: a message is a 4-byte big-endian length and that many bytes of JSON.
/// A put's file bytes follow its request raw, a get's follow its response, each exactly the length the
/// header gave. One request per connection.
/// </summary>
internal static class ControlFrames
{
    /// <summary>Requests are small; a longer one is garbage or an attack.</summary>
    public const int MaxHeader = 64 * 1024;

    /// <summary>
    /// Replies may list a large directory, a long history or a big trash (about 100 bytes an entry); the
    /// client takes up to this much from the node it asked, which is trusted (same user, owner-only socket).
    /// </summary>
    public const int MaxReply = 256 * 1024 * 1024;

    public static async Task WriteAsync(Stream stream, JsonObject message, CancellationToken cancellationToken)
    {
        byte[] json = System.Text.Encoding.UTF8.GetBytes(message.ToJsonString());
        byte[] frame = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, json.Length);
        json.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next message, at most <paramref name="maxBytes"/> of JSON; null when the other side closed before sending one.</summary>
    public static async Task<JsonObject?> ReadAsync(Stream stream, CancellationToken cancellationToken, int maxBytes = MaxHeader)
    {
        byte[] length = new byte[4];
        int read = await stream.ReadAtLeastAsync(length, 4, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new InvalidDataException("the control message ends inside its length");
        }

        int size = BinaryPrimitives.ReadInt32BigEndian(length);
        if (size <= 0 || size > maxBytes)
        {
            throw new InvalidDataException($"a control message of {size} bytes (at most {maxBytes})");
        }

        byte[] json = new byte[size];
        await stream.ReadExactlyAsync(json, cancellationToken);
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("a control message that is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"a control message that is not JSON: {e.Message}");
        }
    }
}
