using Spectre.Console;

namespace NexNet.Cli;

/// <summary>
/// Progress of a put or get: on a terminal a bar with rate and time left (Spectre.Console); otherwise a
/// plain line on stderr at every tenth, so logs and scripts get something readable. Small files show none.
/// </summary>
internal static class TransferProgress
{
    /// <summary>Below this a transfer is over before a bar is worth drawing.</summary>
    public const long Threshold = 8L * 1024 * 1024;

    public static bool IsTerminal => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="transfer"/>, which reports bytes as they move.</summary>
    public static async Task RunAsync(string description, long total, bool quiet, Func<Action<long>, Task> transfer)
    {
        if (quiet || total < Threshold)
        {
            await transfer(_ => { });
        }
        else if (IsTerminal)
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    ProgressTask task = context.AddTask(description, maxValue: total);
                    await transfer(n => task.Increment(n));
                });
        }
        else
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            long done = 0;
            int reportedTenths = 0;
            await transfer(n =>
            {
                done += n;
                int tenths = (int)(done * 10 / total);
                if (tenths > reportedTenths && tenths < 10)
                {
                    reportedTenths = tenths;
                    double rate = done / Math.Max(started.Elapsed.TotalSeconds, 0.001);
                    Console.Error.WriteLine($"{description}: {tenths * 10}% ({Units.Bytes(done)} of {Units.Bytes(total)}, {Units.Bytes((long)rate)}/s, {Units.Seconds((total - done) / rate)} left)");
                }
            });
        }
    }
}
