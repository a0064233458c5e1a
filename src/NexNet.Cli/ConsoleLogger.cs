using Microsoft.Extensions.Logging;

namespace NexNet.Cli;

/// <summary>
/// Log lines on stderr as <c>HH:mm:ss level message</c>: one line per event, readable in a terminal and in a
/// captured log. Where one process runs several nodes (the mount demo), each has its own logger whose
/// <paramref name="source"/> (<c>[a]</c>) follows the time, so a line says which node wrote it.
/// </summary>
internal sealed class ConsoleLogger(LogLevel minimum, string? source = null) : ILogger, ILoggerProvider
{
    private static readonly Lock s_lock = new();
    private readonly string _source = source is null ? "" : $"[{source}] ";

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string line = $"{DateTime.Now:HH:mm:ss} {_source}{Text(logLevel, state, exception, formatter)}";
        lock (s_lock)
        {
            Console.Error.WriteLine(line);
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    /// <summary>A log event as both the console and the log file write it after their timestamps: <c>level message[: exception]</c>.</summary>
    public static string Text<TState>(LogLevel level, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        $"{LevelName(level)} {formatter(state, exception)}{(exception is null ? "" : ": " + exception.Message)}";

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Warning => "warn",
        LogLevel.Error or LogLevel.Critical => "error",
        LogLevel.Debug or LogLevel.Trace => "debug",
        _ => "info",
    };
}
