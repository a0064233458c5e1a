using Microsoft.Extensions.Logging;
using NexNet.Cli;

namespace NexNet.IntegrationTests.Cli;

/// <summary>The node's log file rolls over instead of growing without bound, and is private to its owner.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class RollingFileLoggerTests
{
    private static readonly string[] s_rolled = [".1", ".2", ".3"];

    [Fact]
    public void The_log_file_rolls_over_at_its_bound_and_keeps_three_old_files()
    {
        using var temp = new TempDirectory();
        using var logger = new RollingFileLogger(temp.Path, LogLevel.Information);
        string line = new('x', 1000);
        for (int i = 0; i < 4 * (RollingFileLogger.MaxBytes / 1000) + 100; i++)
        {
            Written(logger, line);
        }

        Skipped(logger);
        string log = Path.Combine(temp.Path, "logs", "nexnet.log");
        Assert.True(new FileInfo(log).Length < RollingFileLogger.MaxBytes);
        Assert.All(s_rolled, suffix => Assert.True(File.Exists(log + suffix), suffix));
        Assert.False(File.Exists(log + ".4"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        Assert.DoesNotContain("below the level", File.ReadAllText(log), StringComparison.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Line}")]
    private static partial void Written(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Debug, Message = "below the level: not written")]
    private static partial void Skipped(ILogger logger);
}
