namespace NexNet.IntegrationTests.Support;

/// <summary>Runs a bash script (set -euo pipefail) with real tools and returns its stdout; a failure or a hang fails the test with what the script printed.</summary>
internal static class Shell
{
    public static async Task<string> RunAsync(string script, TimeSpan? timeout = null)
    {
        using ChildProcess process = ChildProcess.Start("bash", "-c", "set -euo pipefail\n" + script).StartCollecting();
        int exit;
        try
        {
            exit = await process.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(5));
        }
        catch (TimeoutException hung)
        {
            // Say where it hung: what it printed so far is the best clue, and it dies with its children.
            string printed = string.Join('\n', process.Lines);
            string said = await process.StderrAsync();
            process.Kill();
            throw new TimeoutException($"{hung.Message}:\n{script}\nstdout so far: {printed}\nstderr so far: {said}", hung);
        }

        string stderr = await process.StderrAsync();
        await process.OutputEndedAsync(TimeSpan.FromSeconds(30));
        string stdout = string.Join('\n', process.Lines);
        Assert.True(exit == 0, $"script failed with {exit}:\n{script}\nstdout: {stdout}\nstderr: {stderr}");
        return stdout.TrimEnd();
    }
}
