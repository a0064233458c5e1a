namespace NexNet.IntegrationTests.Support;

/// <summary>Runs a bash script (set -euo pipefail) with real tools and returns its stdout; a failure fails the test with its stderr.</summary>
internal static class Shell
{
    public static async Task<string> RunAsync(string script, TimeSpan? timeout = null)
    {
        using ChildProcess process = ChildProcess.Start("bash", "-c", "set -euo pipefail\n" + script).StartCollecting();
        int exit = await process.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(5));
        string stderr = await process.StderrAsync();
        await process.OutputEndedAsync(TimeSpan.FromSeconds(30));
        string stdout = string.Join('\n', process.Lines);
        Assert.True(exit == 0, $"script failed with {exit}:\n{script}\nstdout: {stdout}\nstderr: {stderr}");
        return stdout.TrimEnd();
    }
}
