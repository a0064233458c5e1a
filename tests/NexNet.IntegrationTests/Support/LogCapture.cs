using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NexNet.IntegrationTests.Support;

/// <summary>A logger that keeps every line, so tests can assert what a node said (and that it said nothing secret).</summary>
internal sealed class LogCapture(string name) : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Name { get; } = name;

    public IReadOnlyCollection<string> Lines => _lines;

    public bool Contains(string fragment) => _lines.Any(l => l.Contains(fragment, StringComparison.OrdinalIgnoreCase));

    public string Dump() => $"--- log of {Name} ---\n" + string.Join('\n', _lines);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
}
