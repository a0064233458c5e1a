using Microsoft.Extensions.Logging;

namespace NexNet.TestHost;

/// <summary>Log lines on stdout as <c>log: Level: message</c>, so a test reading the child's output sees them in order with its other lines.</summary>
internal sealed class StdoutLogger : ILogger
{
    private static readonly Lock s_lock = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        Say($"log: {logLevel}: {formatter(state, exception)}");
    }

    public static void Say(string line)
    {
        lock (s_lock)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
