using System.Globalization;
using System.Runtime;

namespace NexNet.Benchmarks;

/// <summary>
/// Untimed warm-up rounds, so that a measurement times the code's steady state and not its compilation,
/// with the JIT time each round added said on stderr to show it. One 256 MiB round was not enough for
/// the node: its three processes added 1,379 and then 571 ms of JIT time in the first two rounds, and
/// after one round the tiered compiler thread still held 4.7% of the timed run's samples. From the third
/// round on they add a floor of about 50 ms per round (code that runs once per file or per round, promoted
/// as the rounds repeat), so four rounds are run, and the bare references get the same four.
/// </summary>
internal static class JitWarmUp
{
    public const int Rounds = 4;

    /// <summary>This process's JIT time so far, in milliseconds (all threads, the background tier-1 compiles included).</summary>
    public static double OwnMilliseconds => JitInfo.GetCompilationTime(currentThread: false).TotalMilliseconds;

    /// <summary>Runs <paramref name="round"/> (given its number, from 1) <see cref="Rounds"/> times; <paramref name="jitMilliseconds"/> is the JIT time so far of every process taking part.</summary>
    public static async Task RunAsync(string what, Func<int, Task> round, Func<Task<double>> jitMilliseconds)
    {
        var added = new List<string>();
        for (int i = 1; i <= Rounds; i++)
        {
            double before = await jitMilliseconds();
            await round(i);
            added.Add((await jitMilliseconds() - before).ToString("F0", CultureInfo.InvariantCulture));
        }

        Console.Error.WriteLine($"{what}: JIT time added by each warm-up round: {string.Join(", ", added)} ms");
    }

    /// <summary>Runs the timed part and says on stderr how much JIT time it added.</summary>
    public static async Task<T> TimedAsync<T>(string what, Func<Task<T>> timed, Func<Task<double>> jitMilliseconds)
    {
        double before = await jitMilliseconds();
        T result = await timed();
        double added = await jitMilliseconds() - before;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: JIT time added by the timed run: {added:F0} ms"));
        return result;
    }
}
