using Microsoft.Extensions.Logging;

namespace NexNet.Cli;

/// <summary>
/// The node's log file, <c>logs/nexnet.log</c> in the data directory: one line per event with a UTC time
/// stamp, rolled over at <see cref="MaxBytes"/> to <c>nexnet.log.1</c> … <c>.3</c> so it never grows without
/// bound. Mode 0600: lines can name files (never keys or contents).
/// </summary>
internal sealed class RollingFileLogger : ILoggerProvider, ILogger
{
    public const long MaxBytes = 8L * 1024 * 1024;
    private const int Keep = 3;

    private readonly string _path;
    private readonly LogLevel _minimum;
    private readonly Lock _lock = new();
    private StreamWriter? _writer;

    public RollingFileLogger(string dataDirectory, LogLevel minimum)
    {
        string directory = Path.Combine(dataDirectory, "logs");
        DataDirectory.CreatePrivate(directory);
        _path = Path.Combine(directory, "nexnet.log");
        _minimum = minimum;
    }

    public string FilePath => _path;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {ConsoleLogger.Text(logLevel, state, exception, formatter)}";
        lock (_lock)
        {
            try
            {
                _writer ??= Open();
                _writer.WriteLine(line);
                _writer.Flush();
                if (_writer.BaseStream.Length >= MaxBytes)
                {
                    _writer.Dispose();
                    _writer = null;
                    Roll();
                }
            }
            catch (IOException)
            {
                // A full disk must not stop the node; the console still has the line.
                _writer?.Dispose();
                _writer = null;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    private StreamWriter Open()
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new StreamWriter(_path, options);
    }

    private void Roll()
    {
        File.Delete($"{_path}.{Keep}");
        for (int i = Keep - 1; i >= 1; i--)
        {
            if (File.Exists($"{_path}.{i}"))
            {
                File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
            }
        }

        File.Move(_path, $"{_path}.1");
    }
}
