namespace NexNet.IntegrationTests.Cli;

/// <summary>A clone of this repository in a temp folder with its nexnet command built (once: the build is the slow part).</summary>
public sealed class FreshClone : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    public string Path => _dir.Combine("clone");

    /// <summary>Runs its arguments with SIGINT at its default disposition, whatever was inherited.</summary>
    private const string WithSigintAtDefault = "perl -e '$SIG{INT} = \"DEFAULT\"; exec @ARGV or die \"exec: $!\"'";

    private static string NugetCache => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
        ? set
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists("/dev/fuse"), "/dev/fuse is missing: these tests mount");
        // The build happens here, outside any namespace (it may need the package cache's network).
        await Shell.RunAsync($"git clone -q '{Repository.Root}' '{Path}' && cd '{Path}' && NUGET_PACKAGES='{NugetCache}' ./nexnet --help >/dev/null", TimeSpan.FromMinutes(10));
    }

    /// <summary>
    /// Runs <paramref name="script"/> from the clone in a network namespace of its own (only loopback), with
    /// <paramref name="home"/> as HOME and job control on, so a job started with &amp; is a process group
    /// that a Ctrl+C (SIGINT to the group) reaches as it would at a terminal. SIGINT is put back to its default
    /// first (perl is part of every Debian): a test run started in the background by a script (nohup ./test.sh &amp;)
    /// inherits SIGINT ignored, no shell can undo that, and the runtime rightly keeps an inherited ignore, so the
    /// node would never see the Ctrl+C (its /proc status showed SigIgn 0x1007 and the test hung).
    /// </summary>
    public async Task<string> RunIsolatedAsync(string script, string home)
    {
        Directory.CreateDirectory(home);
        string file = System.IO.Path.Combine(home, "..", $"script-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(file, script, TestContext.Current.CancellationToken);
        return await Shell.RunAsync($"""
            cd '{Path}'
            unshare -n {WithSigintAtDefault} env -u NEXNET_DATA HOME='{home}' NUGET_PACKAGES='{NugetCache}' bash -c 'ip link set lo up && set -m -euo pipefail && cd "{Path}" && source "{file}"'
            """, TimeSpan.FromMinutes(5));
    }

    /// <summary>A shell loop that waits up to 60 s for <paramref name="condition"/>, failing the script with <paramref name="what"/> if it never holds.</summary>
    public static string WaitFor(string condition, string what) =>
        $"for _ in $(seq 600); do {{ {condition}; }} && break; sleep 0.1; done; {{ {condition}; }} || {{ echo 'never came: {what}' >&2; exit 1; }}";

    /// <summary>
    /// A shell snippet that presses Ctrl+C on the job whose pid is in <c>$pid</c> and waits up to 60 s for it
    /// to end, leaving its exit status in <c>$status</c>; if it is still running then, the script fails with
    /// what it printed (<paramref name="output"/>), its signal masks and the processes of its group, and kills them.
    /// </summary>
    public static string CtrlC(string output) => $$"""
        kill -INT -- -$pid
        for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
        if kill -0 $pid 2>/dev/null; then
          echo "still running 60 s after Ctrl+C; it printed:" >&2; cat '{{output}}' >&2
          grep '^Sig' /proc/$pid/status >&2 || true
          ps -eo pid,pgid,stat,wchan:32,cmd | awk -v g=$pid 'NR == 1 || $2 == g' >&2
          kill -KILL -- -$pid
          exit 1
        fi
        status=0; wait $pid || status=$?
        """;

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
