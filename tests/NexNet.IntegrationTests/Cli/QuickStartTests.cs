using NexNet.IntegrationTests.Mount;
using NexNet.IntegrationTests.Support;
using NexNet.Tests.Shared;

namespace NexNet.IntegrationTests.Cli;

/// <summary>
/// The README's quick start, run as written on a fresh clone of this repository: init, mount, cp, invite,
/// a second node joined with the token, the file read through it. It runs in its own network namespace,
/// so the fixed ports it names (4747, 4848) cannot collide with anything else on the machine.
/// </summary>
public sealed class QuickStartTests
{
    [Fact]
    public async Task The_readmes_quick_start_runs_as_written_on_a_fresh_clone()
    {
        Assert.True(File.Exists("/dev/fuse"), "/dev/fuse is missing: the quick start mounts");
        string repository = Repository.Root;
        string readme = await File.ReadAllTextAsync(Path.Combine(repository, "README.md"), TestContext.Current.CancellationToken);
        const string Start = "<!-- quickstart -->\n```bash\n", End = "```\n<!-- /quickstart -->";
        int from = readme.IndexOf(Start, StringComparison.Ordinal) + Start.Length;
        string block = readme[from..readme.IndexOf(End, from, StringComparison.Ordinal)];
        Assert.Contains("./nexnet init", block, StringComparison.Ordinal);

        using var temp = new TempDirectory();
        string clone = temp.Combine("clone"), home = temp.Combine("home");
        Directory.CreateDirectory(home);
        await File.WriteAllTextAsync(temp.Combine("quickstart.sh"), block, TestContext.Current.CancellationToken);
        string nugetCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        try
        {
            // The build happens first, outside the namespace (it may need the package cache's network).
            await Shell.RunAsync($"git clone -q '{repository}' '{clone}' && cd '{clone}' && NUGET_PACKAGES='{nugetCache}' ./nexnet --help >/dev/null", TimeSpan.FromMinutes(10));
            string output = await Shell.RunAsync($"""
                cd '{clone}'
                unshare -n env -u NEXNET_DATA HOME='{home}' NUGET_PACKAGES='{nugetCache}' bash -c 'ip link set lo up && set -euo pipefail && cd "{clone}" && source "{temp.Combine("quickstart.sh")}"'
                """, TimeSpan.FromMinutes(5));
            Assert.Contains("the second node read the file", output, StringComparison.Ordinal);
            Assert.Contains($"nexnet: unmounted {home}/NexNet", output, StringComparison.Ordinal);
            Assert.False(MountProcess.IsMounted(Path.Combine(home, "NexNet")));
        }
        finally
        {
            await Shell.RunAsync($"pkill -TERM -f -- '[-]-data {home}/second' || true; fusermount3 -u '{home}/NexNet' 2>/dev/null || true");
        }
    }
}
