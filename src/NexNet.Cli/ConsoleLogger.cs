using Microsoft.Extensions.Logging;

namespace NexNet.Cli;

/// <summary>Log lines on stderr as <c>HH:mm:ss level message</c>: one line per event, readable in a terminal and in a captured log.</summary>
internal sealed class ConsoleLogger(LogLevel minimum) : ILogger, ILoggerProvider
{
    private static readonly Lock s_lock = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string line = $"{DateTime.Now:HH:mm:ss} {LevelName(logLevel)} {formatter(state, exception)}{(exception is null ? "" : ": " + exception.Message)}";
        lock (s_lock)
        {
            Console.Error.WriteLine(line);
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Warning => "warn",
        LogLevel.Error or LogLevel.Critical => "error",
        LogLevel.Debug or LogLevel.Trace => "debug",
        _ => "info",
    };
}
