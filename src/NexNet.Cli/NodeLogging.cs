using Microsoft.Extensions.Logging;

namespace NexNet.Cli;

/// <summary>A running node's logging: readable lines on stderr and the rotating log file in its data directory.</summary>
internal static class NodeLogging
{
    public static ILoggerFactory Create(string dataDirectory, bool verbose, out string logFile)
    {
        LogLevel level = verbose ? LogLevel.Debug : LogLevel.Information;
        var file = new RollingFileLogger(dataDirectory, level);
        logFile = file.FilePath;
        return LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddProvider(new ConsoleLogger(level))
            .AddProvider(file));
    }
}
