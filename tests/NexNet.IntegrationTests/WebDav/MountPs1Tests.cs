namespace NexNet.IntegrationTests.WebDav;

/// <summary>
/// mount.ps1 under PowerShell 7 on Linux: it parses, its parameters are checked with clear messages, and
/// off Windows it says it is for Windows and points at mount.sh. (Mapping a drive needs Windows.)
/// </summary>
public sealed class MountPs1Tests
{
    [Fact]
    public async Task It_parses_and_checks_its_parameters_and_sends_linux_users_to_mount_sh()
    {
        string pwsh = FindPwsh();
        string script = Path.Combine(Repository.Root, "mount.ps1");
        string errors = await Shell.RunAsync($$"""'{{pwsh}}' -NoProfile -Command '$e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile("{{script}}", [ref]$null, [ref]$e); $e.Count'""");
        Assert.Equal("0", errors);

        (int exit, string output) help = await RunAsync(pwsh, script, "-Help");
        Assert.Equal(0, help.exit);
        Assert.Contains("usage: ./mount.ps1 [-Drive Z] [-Data DIR] [-Port 4780]", help.output, StringComparison.Ordinal);

        (int exit, string output) drive = await RunAsync(pwsh, script, "-Drive", "12");
        Assert.Equal(64, drive.exit);
        Assert.Contains("mount.ps1: -Drive takes one letter, e.g. -Drive Z (got '12')", drive.output, StringComparison.Ordinal);

        (int exit, string output) port = await RunAsync(pwsh, script, "-Port", "70000");
        Assert.Equal(64, port.exit);
        Assert.Contains("mount.ps1: -Port must be between 1 and 65535 (got 70000)", port.output, StringComparison.Ordinal);

        (int exit, string output) linux = await RunAsync(pwsh, script);
        Assert.Equal(64, linux.exit);
        Assert.Contains("mount.ps1: mount.ps1 is for Windows (it maps a drive letter over WebDAV); on Linux and macOS run ./mount.sh instead", linux.output, StringComparison.Ordinal);
    }

    private static async Task<(int, string)> RunAsync(string pwsh, string script, params string[] args)
    {
        using ChildProcess process = ChildProcess.Start(pwsh, ["-NoProfile", "-File", script, .. args]).StartCollecting();
        int exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        await process.OutputEndedAsync(TimeSpan.FromSeconds(30));
        return (exit, string.Join('\n', process.Lines) + "\n" + await process.StderrAsync());
    }

    private static string FindPwsh()
    {
        string tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "pwsh");
        if (File.Exists(tool))
        {
            return tool;
        }

        string? onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "pwsh")).FirstOrDefault(File.Exists);
        return onPath ?? throw new InvalidOperationException("pwsh (PowerShell 7) is not installed: ./test.sh installs it with `dotnet tool install --global PowerShell --version 7.6.9`");
    }
}
