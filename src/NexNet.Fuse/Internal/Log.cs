using Microsoft.Extensions.Logging;

namespace NexNet.Fuse;

/// <summary>The mount's log lines: one per failure, saying which operation on which path and why.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "mount: {Operation} {Path} failed: {Reason}")]
    public static partial void OperationFailed(ILogger logger, string operation, string path, string reason);

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "mount: unexpected error in {Operation} (answered EIO)")]
    public static partial void Unexpected(ILogger logger, string operation, Exception error);
}
