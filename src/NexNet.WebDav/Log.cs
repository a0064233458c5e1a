using Microsoft.Extensions.Logging;

namespace NexNet.WebDav;

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "webdav: {Method} {Path} failed: {Problem}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, string problem);
}
