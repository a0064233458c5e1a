using Microsoft.Extensions.Logging;

namespace NexNet.WebDav;

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "webdav: {Method} {Path} failed: {Problem}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "webdav: refused {Method} from {Remote} (421): its Host header \"{Host}\" is neither this server's address nor one of its names (a web page trying DNS rebinding sends such requests; a name of this machine belongs in webdavHosts in config.json)")]
    public static partial void HostRefused(ILogger logger, string method, string host, string remote);
}
