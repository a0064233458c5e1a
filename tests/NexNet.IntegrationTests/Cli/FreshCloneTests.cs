using System.Text.RegularExpressions;
using NexNet.IntegrationTests.Mount;

namespace NexNet.IntegrationTests.Cli;

/// <summary>
/// What a newcomer runs, as written, on a fresh clone of this repository (cloned and built once for the
/// class): the README's quick start, <c>./mount.sh DIR</c> and <c>./mount.sh --demo ROOT</c> (whose nodes each
/// answer <c>nexnet status</c>), each stopped with Ctrl+C (SIGINT to the foreground process group). Each runs in
/// its own network namespace, so the fixed ports they use (4747, 4848, the demo's) cannot collide with anything
/// else on the machine.
/// </summary>
public sealed class FreshCloneTests(FreshClone clone) : IClassFixture<FreshClone>
{
    [Fact]
    public async Task The_readmes_quick_start_runs_as_written()
    {
        string readme = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "README.md"), TestContext.Current.CancellationToken);
        const string Start = "<!-- quickstart -->\n```bash\n", End = "```\n<!-- /quickstart -->";
        int from = readme.IndexOf(Start, StringComparison.Ordinal) + Start.Length;
        string block = readme[from..readme.IndexOf(End, from, StringComparison.Ordinal)];
        Assert.Contains("./nexnet init", block, StringComparison.Ordinal);

        using var temp = new TempDirectory();
        string home = temp.Combine("home");
        try
        {
            string output = await clone.RunIsolatedAsync(block, home);
            Assert.Contains("the second node read the file", output, StringComparison.Ordinal);
            Assert.Contains($"nexnet: unmounted {home}/NexNet", output, StringComparison.Ordinal);
            Assert.False(NexnetMountProcess.IsMounted(Path.Combine(home, "NexNet")));
        }
        finally
        {
            await Shell.RunAsync($"pkill -TERM -f -- '[-]-data {home}/second' || true; fusermount3 -u '{home}/NexNet' 2>/dev/null || true");
        }
    }

    [Fact]
    public async Task Mount_sh_mounts_a_new_volume_and_ctrl_c_unmounts_it_keeping_what_was_copied_in()
    {
        using var temp = new TempDirectory();
        string home = temp.Combine("home"), mnt = temp.Combine("mnt");
        try
        {
            string output = await clone.RunIsolatedAsync($"""
                ./mount.sh '{mnt}' --listen 127.0.0.1:0 > '{temp.Combine("out")}' 2>&1 &
                pid=$!
                {FreshClone.WaitFor($"mountpoint -q '{mnt}'", "the mount")}
                cp README.md '{mnt}/'
                cmp README.md '{mnt}/README.md' && echo "copied in"
                {FreshClone.CtrlC(temp.Combine("out"))}
                [ $status -eq 0 ] && echo "mount.sh exited 0"
                mountpoint -q '{mnt}' || echo "unmounted"
                cat '{temp.Combine("out")}'
                ./mount.sh '{mnt}' --listen 127.0.0.1:0 > '{temp.Combine("out2")}' 2>&1 &
                pid=$!
                {FreshClone.WaitFor($"mountpoint -q '{mnt}'", "the mount, again")}
                cmp README.md '{mnt}/README.md' && echo "kept"
                {FreshClone.CtrlC(temp.Combine("out2"))}
                [ $status -eq 0 ]
                """, home);
            Assert.Contains("copied in", output, StringComparison.Ordinal);
            Assert.Contains("mount.sh exited 0", output, StringComparison.Ordinal);
            Assert.Contains("\nunmounted\n", output, StringComparison.Ordinal);
            Assert.Contains($"nexnet: unmounted {mnt}", output, StringComparison.Ordinal);
            Assert.EndsWith("kept", output, StringComparison.Ordinal);
        }
        finally
        {
            await Shell.RunAsync($"fusermount3 -u -z '{mnt}' 2>/dev/null || true");
        }
    }

    [Fact]
    public async Task Mount_sh_demo_mounts_three_connected_nodes_and_ctrl_c_unmounts_all_three()
    {
        using var temp = new TempDirectory();
        string home = temp.Combine("home"), root = temp.Combine("demo");
        try
        {
            string output = await clone.RunIsolatedAsync($"""
                ./mount.sh --demo '{root}' > '{temp.Combine("out")}' 2>&1 &
                pid=$!
                {FreshClone.WaitFor($"mountpoint -q '{root}/a' && mountpoint -q '{root}/b' && mountpoint -q '{root}/c'", "the three mounts")}
                cp README.md '{root}/a/'
                {FreshClone.WaitFor($"cmp -s README.md '{root}/b/README.md' && cmp -s README.md '{root}/c/README.md'", "the file in b and c")}
                echo "b and c have a's file"
                for n in a b c; do ./nexnet status --data '{root}/.data'/$n; done
                {FreshClone.CtrlC(temp.Combine("out"))}
                [ $status -eq 0 ] && echo "mount.sh exited 0"
                for n in a b c; do mountpoint -q '{root}'/$n || echo "unmounted $n"; done
                cat '{temp.Combine("out")}'
                """, home);
            Assert.Contains("b and c have a's file", output, StringComparison.Ordinal);
            Assert.Contains("mount.sh exited 0", output, StringComparison.Ordinal);
            Assert.Contains("unmounted a\nunmounted b\nunmounted c", output, StringComparison.Ordinal);
            foreach (string n in new[] { "a", "b", "c" })
            {
                Assert.Contains($"nexnet: unmounted {root}/{n}", output, StringComparison.Ordinal);

                // Each node answers on its own control socket, and its log lines carry its name.
                Assert.Contains($"data: {root}/.data/{n}\nmounted: {root}/{n}\n", output, StringComparison.Ordinal);
                Assert.Matches($@"\d\d:\d\d:\d\d \[{n}\] info listening on 127\.0\.0\.1:\d+ as node ", output);
            }

            Assert.Equal(3, Regex.Count(output, @"^peers: 2$", RegexOptions.Multiline));
        }
        finally
        {
            await Shell.RunAsync($"for n in a b c; do fusermount3 -u -z '{root}'/$n 2>/dev/null || true; done");
        }
    }
}
