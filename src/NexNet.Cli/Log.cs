using Microsoft.Extensions.Logging;

namespace NexNet.Cli;

/// <summary>The command line's log lines.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "control socket: {Problem}")]
    public static partial void ControlFailed(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "control socket: refused a client of uid {Uid} (pid {Pid}): only the node's own user and root may use it")]
    public static partial void ControlRefused(ILogger logger, uint uid, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Id} listening on {Address}; control socket {Socket}; log file {LogFile}")]
    public static partial void NodeStarted(ILogger logger, string id, string address, string socket, string logFile);
}
