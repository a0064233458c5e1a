using System.Diagnostics;
using System.Text.Json.Nodes;

namespace NexNet.IntegrationTests.Cli;

/// <summary>Runs the real <c>nexnet</c> command (built beside the tests) and collects its exit code and output.</summary>
internal static class Nexnet
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromMinutes(3);

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "nexnet.dll");

    public static string Dotnet => Support.ChildProcess.Dotnet;

    /// <summary>The command as a shell would run it.</summary>
    public static string ShellCommand => $"'{Dotnet}' '{Dll}'";

    public static Task<Result> RunAsync(params string[] args) => RunWithAsync(null, args);

    /// <summary>Runs under <paramref name="wrapper"/> (e.g. setpriv …) when given.</summary>
    public static Task<Result> RunWithAsync(string[]? wrapper, params string[] args) => RunAsync(wrapper, null, args);

    /// <summary>Runs the build's copy at <paramref name="dll"/> under <paramref name="wrapper"/> (another user may not reach the build's own folder).</summary>
    public static Task<Result> RunCopyWithAsync(string dll, string[] wrapper, params string[] args) => RunAsync(wrapper, null, args, dll);

    /// <summary><c>nexnet init</c> of <paramref name="data"/> (listening on 127.0.0.1, port 0), then <paramref name="settings"/> written into its config.json.</summary>
    public static async Task InitAsync(string data, params (string Key, JsonNode? Value)[] settings)
    {
        Result init = await RunAsync("init", "--data", data, "--listen", "127.0.0.1:0");
        Assert.True(init.Exit == 0, init.ToString());
        string config = Path.Combine(data, "config.json");
        JsonObject values = (JsonObject)JsonNode.Parse(await File.ReadAllTextAsync(config))!;
        foreach ((string key, JsonNode? value) in settings)
        {
            values[key] = value?.DeepClone();
        }

        await File.WriteAllTextAsync(config, values.ToJsonString());
    }

    /// <summary>As <see cref="InitAsync"/>, then the keys of <paramref name="member"/>'s volume: another member of it.</summary>
    public static async Task InitMemberAsync(string data, string member, params (string Key, JsonNode? Value)[] settings)
    {
        await InitAsync(data, settings);
        foreach (string key in new[] { "network.key", "volume.key" })
        {
            File.Copy(Path.Combine(member, key), Path.Combine(data, key), overwrite: true);
        }
    }

    /// <summary><c>nexnet status --json</c> of the node running on <paramref name="data"/>.</summary>
    public static async Task<JsonObject> StatusAsync(string data)
    {
        Result status = await RunAsync("status", "--json", "--data", data);
        Assert.True(status.Exit == 0, status.ToString());
        return (JsonObject)JsonNode.Parse(status.Stdout)!;
    }

    /// <summary>How many versions <c>nexnet history --json</c> lists for <paramref name="path"/>.</summary>
    public static async Task<int> HistoryCountAsync(string data, string path)
    {
        Result history = await RunAsync("history", path, "--json", "--data", data);
        Assert.True(history.Exit == 0, history.ToString());
        return ((JsonArray)JsonNode.Parse(history.Stdout)!).Count;
    }

    /// <summary>Runs with <paramref name="input"/> on its stdin (then closed).</summary>
    public static Task<Result> RunWithInputAsync(string input, params string[] args) => RunAsync(null, input, args);

    private static async Task<Result> RunAsync(string[]? wrapper, string? input, string[] args, string? dll = null)
    {
        string[] command = [.. wrapper ?? [], Dotnet, dll ?? Dll, .. args];
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"nexnet {string.Join(' ', args)} did not finish within {s_deadline.TotalMinutes} min");
        }

        return new Result(process.ExitCode, (await stdout).TrimEnd(), (await stderr).TrimEnd());
    }

    public sealed record Result(int Exit, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {Exit}\nstdout: {Stdout}\nstderr: {Stderr}";
    }
}
