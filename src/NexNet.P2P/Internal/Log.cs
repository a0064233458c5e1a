using Microsoft.Extensions.Logging;

namespace NexNet.P2P.Internal;

/// <summary>Every log line the network layer writes: one line per event, never a secret.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "request type {Type} from {Peer} failed: {Error}")]
    public static partial void RequestFailed(ILogger logger, uint type, string peer, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "listening on {EndPoint} as node {NodeId}")]
    public static partial void Listening(ILogger logger, string endPoint, NodeId nodeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "connected to {Peer} at {EndPoint} ({Direction})")]
    public static partial void Connected(ILogger logger, string peer, string endPoint, string direction);

    [LoggerMessage(Level = LogLevel.Information, Message = "disconnected from {Peer} at {EndPoint}: {Reason}")]
    public static partial void Disconnected(ILogger logger, string peer, string endPoint, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused connection from {EndPoint}: {Reason}")]
    public static partial void RefusedIncoming(ILogger logger, string endPoint, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not connect to {Address}: {Reason}")]
    public static partial void DialFailed(ILogger logger, string address, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "dial to {Address} failed ({Reason}); next try in {DelayMs} ms")]
    public static partial void DialRetry(ILogger logger, string address, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Where} failed unexpectedly ({Error}); carrying on")]
    private static partial void Unexpected(ILogger logger, string where, string error);

    /// <summary>A failure no code path expects (a bug): one line with its type and message, then the caller carries on.</summary>
    public static void Unexpected(ILogger logger, string where, Exception error) => Unexpected(logger, where, $"{error.GetType().Name}: {error.Message}");
}
