using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;

namespace NexNet.IntegrationTests.Cli;

/// <summary>put, get, ls, rm and status against a real <c>nexnet node</c>, through its control socket.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliNodeTests
{
    [Fact]
    public async Task Put_get_ls_rm_and_status_work_against_a_running_node()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        Nexnet.Result init = await Nexnet.RunAsync("init", "--data", data, "--listen", "127.0.0.1:0");
        Assert.True(init.Exit == 0, init.ToString());
        string config = Path.Combine(data, "config.json");
        Assert.Contains("\"cacheLimitGiB\": 0", File.ReadAllText(config), StringComparison.Ordinal); // written, and off
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"cacheLimitGiB\": 0", "\"cacheLimitGiB\": 2", StringComparison.Ordinal));
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data);
        Assert.Equal((UnixFileMode)0, File.GetUnixFileMode(Path.Combine(data, "control.sock")) & (UnixFileMode)0x3F); // nothing for group or others

        byte[] content = RandomNumberGenerator.GetBytes(3_000_000);
        string local = temp.Combine("photo.bin");
        File.WriteAllBytes(local, content);
        Nexnet.Result put = await Nexnet.RunAsync("put", local, "--data", data);
        Assert.True(put.Exit == 0, put.ToString());
        Assert.StartsWith("nexnet: stored /photo.bin (2.9 MiB in ", put.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Nexnet.RunAsync("put", local, "/albums/2026/", "--data", data)).Exit);

        Nexnet.Result ls = await Nexnet.RunAsync("ls", "--data", data);
        Assert.Equal("albums/\nphoto.bin", ls.Stdout);
        Nexnet.Result longList = await Nexnet.RunAsync("ls", "/albums/2026", "-l", "--data", data);
        Assert.Matches(@"^-rw-r--r-- 3000000 \d{4}-\d\d-\d\d \d\d:\d\d photo\.bin$", longList.Stdout);
        JsonArray listed = (JsonArray)JsonNode.Parse((await Nexnet.RunAsync("ls", "/albums/2026", "--json", "--data", data)).Stdout)!;
        Assert.Equal(3_000_000, (long)listed[0]!["size"]!);

        Nexnet.Result get = await Nexnet.RunAsync("get", "/albums/2026/photo.bin", temp.Combine("back.bin"), "--data", data);
        Assert.True(get.Exit == 0, get.ToString());
        Assert.Equal(content, File.ReadAllBytes(temp.Combine("back.bin")));
        Assert.Equal(File.GetLastWriteTimeUtc(local), File.GetLastWriteTimeUtc(temp.Combine("back.bin")));

        JsonObject status = (JsonObject)JsonNode.Parse((await Nexnet.RunAsync("status", "--json", "--data", data)).Stdout)!;
        Assert.Equal(node.Address, (string?)status["listen"]);
        Assert.NotEqual("127.0.0.1:0", (string?)status["listen"]);
        Assert.Equal(true, (bool?)status["member"]);
        Assert.True((long)status["store"]!["chunks"]! >= 3);
        Assert.Equal(0, (long)status["store"]!["replicasUnchecked"]!); // nothing was pushed here
        Assert.Equal(2L << 30, (long)status["store"]!["cacheLimit"]!);
        Assert.Equal(4, (long)status["tree"]!["entries"]!); // /photo.bin, /albums, /albums/2026, /albums/2026/photo.bin
        Nexnet.Result plain = await Nexnet.RunAsync("status", "--data", data);
        Assert.Contains($"listening: {node.Address}", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("replication: ", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("cache limit 2", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("peers: 0", plain.Stdout, StringComparison.Ordinal);

        Nexnet.Result refuse = await Nexnet.RunAsync("rm", "/albums", "--data", data);
        Assert.Equal(64, refuse.Exit);
        Assert.Equal("nexnet: /albums is a directory: use rm -r to delete it and everything in it", refuse.Stderr);
        Assert.Equal(0, (await Nexnet.RunAsync("rm", "-r", "/albums", "--data", data)).Exit);
        Assert.Equal(0, (await Nexnet.RunAsync("rm", "/photo.bin", "--data", data)).Exit);
        Assert.Equal("", (await Nexnet.RunAsync("ls", "--data", data)).Stdout);
    }

    [Fact]
    public async Task A_put_whose_client_disconnects_mid_file_stores_nothing_short_and_keeps_the_old_version()
    {
        using var temp = new TempDirectory();
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(temp.Combine("data"));
        CancellationToken cancel = TestContext.Current.CancellationToken;
        byte[] old = RandomNumberGenerator.GetBytes(100_000);
        File.WriteAllBytes(temp.Combine("kept.bin"), old);
        Assert.Equal(0, (await Nexnet.RunAsync("put", temp.Combine("kept.bin"), "--data", node.DataDirectory)).Exit);

        // A client (as `nexnet put` is) announces 10 MiB, sends 3 MiB and goes away: over an existing file and a new one.
        foreach (string path in new[] { "/kept.bin", "/new.bin" })
        {
            int complaints = node.Process.ErrorLines.Count(l => l.Contains("control socket:", StringComparison.Ordinal));
            using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(ControlServer.SocketPath(node.DataDirectory)), cancel);
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                await ControlFrames.WriteAsync(stream, new JsonObject { ["op"] = "put", ["path"] = path, ["length"] = 10 << 20 }, cancel);
                await stream.WriteAsync(RandomNumberGenerator.GetBytes(3 << 20), cancel);
            }

            await Eventually.WaitAsync(() => node.Process.ErrorLines.Count(l => l.Contains("control socket:", StringComparison.Ordinal)) > complaints,
                TimeSpan.FromSeconds(30), $"the node's log line about the cut-off put of {path}");
        }

        Nexnet.Result get = await Nexnet.RunAsync("get", "/kept.bin", temp.Combine("back.bin"), "--data", node.DataDirectory);
        Assert.True(get.Exit == 0, get.ToString());
        Assert.Equal(old, File.ReadAllBytes(temp.Combine("back.bin")));
        Assert.Equal("kept.bin", (await Nexnet.RunAsync("ls", "--data", node.DataDirectory)).Stdout);
    }

    [Fact]
    public async Task Status_shows_a_real_peers_round_trip_and_sync_and_watch_follows_the_queue_until_it_drains()
    {
        using var temp = new TempDirectory();
        string a = temp.Combine("a"), b = temp.Combine("b");
        await using NexnetNodeProcess first = await NexnetNodeProcess.StartAsync(a);
        Nexnet.Result invite = await Nexnet.RunAsync("invite", "--address", first.Address, "--data", a);
        Assert.True(invite.Exit == 0, invite.ToString());
        File.WriteAllText(temp.Combine("token"), invite.Stdout);
        Nexnet.Result join = await Nexnet.RunAsync("join", "--token-file", temp.Combine("token"), "--data", b, "--listen", "127.0.0.1:0");
        Assert.True(join.Exit == 0, join.ToString());

        NexnetNodeProcess second = await NexnetNodeProcess.StartAsync(b);
        await using (second)
        {
            string peerId = "";
            await Eventually.WaitAsync(async () =>
                ((JsonObject)JsonNode.Parse((await Nexnet.RunAsync("status", "--json", "--data", a)).Stdout)!)["peers"] is JsonArray { Count: 1 } peers &&
                (string?)peers[0]!["state"] == "connected" && (double?)peers[0]!["rttMs"] > 0 && (string?)peers[0]!["caughtUp"] is not null &&
                (peerId = (string)peers[0]!["id"]!) != "", TimeSpan.FromSeconds(30), "a's status shows b connected, with a round trip and a sync");
            string plain = (await Nexnet.RunAsync("status", "--data", a)).Stdout;
            Assert.Matches($@"(?m)^  {peerId[..12]} 127\.0\.0\.1:\d+ connected rtt \d+ ms records caught up .* ago$", plain);
        }

        // b is gone: a's put queues copies for it; --watch follows the queue until b is back and it drains.
        File.WriteAllBytes(temp.Combine("big.bin"), RandomNumberGenerator.GetBytes(20 << 20));
        Assert.Equal(0, (await Nexnet.RunAsync("put", temp.Combine("big.bin"), "--data", a)).Exit);
        Assert.True((long)((JsonObject)JsonNode.Parse((await Nexnet.RunAsync("status", "--json", "--data", a)).Stdout)!)["replication"]!["pendingChunks"]! > 0);
        // The watch has printed the queue it starts from before b comes back, so what it follows is the drain.
        using ChildProcess watch = NexnetProcess.Start("status", "--watch", "--data", a).StartCollecting();
        await watch.WaitForLineAsync(l => l.StartsWith("replication: ", StringComparison.Ordinal) && l.Contains(" queued", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the queue it starts from");
        await using (NexnetNodeProcess again = await NexnetNodeProcess.StartAsync(b))
        {
            Assert.Equal(0, await watch.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            await watch.OutputEndedAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("replication: every queued chunk has its copies", watch.Lines.Last());
        }
    }

    [Fact]
    public async Task Missing_paths_and_files_are_not_found_errors()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data);
        Nexnet.Result get = await Nexnet.RunAsync("get", "/no/such/file", temp.Combine("x"), "--data", data);
        Assert.Equal(66, get.Exit);
        Assert.Equal("nexnet: /no/such/file does not exist", get.Stderr);
        Assert.False(File.Exists(temp.Combine("x")) || File.Exists(temp.Combine("x.nexnet-part")), "nothing half-written is left");
        Nexnet.Result ls = await Nexnet.RunAsync("ls", "/nope", "--data", data);
        Assert.Equal(66, ls.Exit);
        Nexnet.Result rm = await Nexnet.RunAsync("rm", "/nope", "--data", data);
        Assert.Equal(66, rm.Exit);
        Assert.Equal("nexnet: /nope does not exist", rm.Stderr);
        Nexnet.Result put = await Nexnet.RunAsync("put", temp.Combine("missing.txt"), "--data", data);
        Assert.Equal(66, put.Exit);
        Assert.Equal($"nexnet: {temp.Combine("missing.txt")} does not exist", put.Stderr);
    }

    [Fact]
    public async Task The_control_socket_refuses_a_client_of_another_user_whatever_its_mode()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data);

        // Loosened by hand, so the modes let anyone reach the socket: only the peer check is left to refuse.
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1ED); // 0755
        File.SetUnixFileMode(data, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(Path.Combine(data, "control.sock"), (UnixFileMode)0x1FF); // 0777
        string[] nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
        // The build's folder may sit in a checkout only its owner can enter (a clone in a 0700 temp folder): the other user runs a copy.
        string copy = temp.Combine("bin");
        Directory.CreateDirectory(copy);
        File.SetUnixFileMode(copy, (UnixFileMode)0x1ED);
        foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            File.SetUnixFileMode(Path.Combine(copy, Path.GetFileName(file)), (UnixFileMode)0x1A4); // 0644
        }

        Nexnet.Result refused = await Nexnet.RunCopyWithAsync(Path.Combine(copy, "nexnet.dll"), nobody, "status", "--data", data);
        Assert.True(refused.Exit == 77, refused.ToString());
        Assert.Equal("nexnet: this node serves only the user it runs as and root; uid 65534 may not use it", refused.Stderr);
        string log = Path.Combine(data, "logs", "nexnet.log");
        await Eventually.WaitAsync(() => File.ReadAllText(log).Contains("control socket: refused a client of uid 65534 (pid ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the node logs the refusal", () => File.ReadAllText(log));
        Assert.Single(File.ReadAllLines(log), l => l.Contains("control socket: refused", StringComparison.Ordinal));

        Nexnet.Result owner = await Nexnet.RunAsync("status", "--data", data);
        Assert.True(owner.Exit == 0, owner.ToString());
    }

    [Fact]
    public async Task A_second_node_on_the_same_data_directory_is_refused()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data);
        Nexnet.Result second = await Nexnet.RunAsync("node", "--data", data);
        Assert.Equal(69, second.Exit);
        Assert.Equal($"nexnet: a node is already running on {data}: stop it first, or use another data directory with --data", second.Stderr);
    }

    [Fact]
    public async Task A_full_disk_fails_the_put_with_an_io_error_and_the_node_keeps_serving()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("small");
        Directory.CreateDirectory(data);
        await Shell.RunAsync($"mount -t tmpfs -o size=6m nexnet-test-full '{data}'");
        try
        {
            await using (NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data))
            {
                string big = temp.Combine("big.bin");
                File.WriteAllBytes(big, RandomNumberGenerator.GetBytes(20_000_000));
                Nexnet.Result full = await Nexnet.RunAsync("put", big, "--data", data);
                Assert.True(full.Exit == 74, full.ToString());
                Assert.EndsWith($"\nnexnet: the node's disk is full ({data}): free some space and try again", full.Stderr, StringComparison.Ordinal);

                // Still serving: a small file goes in and comes back, the failed one is not listed.
                File.WriteAllText(temp.Combine("small.txt"), "still here");
                Assert.Equal(0, (await Nexnet.RunAsync("put", temp.Combine("small.txt"), "--data", data)).Exit);
                Assert.Equal("small.txt", (await Nexnet.RunAsync("ls", "--data", data)).Stdout);
                Assert.Equal("still here", (await Nexnet.RunAsync("get", "/small.txt", "-", "--data", data)).Stdout);
            }
        }
        finally
        {
            await Shell.RunAsync($"umount '{data}'");
        }
    }

    [Fact]
    public async Task Put_of_a_large_file_draws_a_bar_on_a_terminal_and_plain_lines_without_one()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data);
        string big = temp.Combine("big.bin");
        File.WriteAllBytes(big, RandomNumberGenerator.GetBytes(64 << 20));

        // script(1) runs the command on a pseudo-terminal and copies what it drew.
        string drawn = await Shell.RunAsync($"TERM=xterm-256color COLUMNS=120 script -qfec \"{Nexnet.ShellCommand} put '{big}' /on-a-terminal.bin --data '{data}'\" /dev/null");
        Assert.Contains("put /on-a-terminal.bin", drawn, StringComparison.Ordinal);
        Assert.Contains("━", drawn, StringComparison.Ordinal); // the bar
        Assert.Contains("100%", drawn, StringComparison.Ordinal);
        Assert.Contains("MiB/s", drawn, StringComparison.Ordinal);
        Assert.Contains("\u001b[", drawn, StringComparison.Ordinal); // drawn with escape sequences

        Nexnet.Result plain = await Nexnet.RunAsync("put", big, "/piped.bin", "--data", data);
        Assert.True(plain.Exit == 0, plain.ToString());
        Assert.DoesNotContain("\u001b[", plain.Stdout + plain.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("━", plain.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"^put /piped\.bin: 10% \([\d.]+ MiB of 64\.0 MiB, [\d.]+ [KMG]?i?B/s, \d+ (s|min) left\)$", plain.Stderr.Split('\n')[0]);
        Assert.StartsWith("nexnet: stored /piped.bin (64.0 MiB in ", plain.Stdout, StringComparison.Ordinal);
    }
}
