using System.Net;
using System.Net.Sockets;

namespace NexNet.IntegrationTests.Cli;

/// <summary>init, invite and join, and the errors any command gives before a node is involved — each message and exit code asserted.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliSetupTests
{
    [Fact]
    public async Task Init_creates_private_keys_and_a_config_and_refuses_to_run_twice()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        Nexnet.Result first = await Nexnet.RunAsync("init", "--data", data, "--listen", "127.0.0.1:4999");
        Assert.True(first.Exit == 0, first.ToString());
        Assert.Contains($"created a new volume in {data}", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, "network.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, "volume.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        Assert.Contains("\"listen\": \"127.0.0.1:4999\"", File.ReadAllText(Path.Combine(data, "config.json")), StringComparison.Ordinal);

        byte[] key = File.ReadAllBytes(Path.Combine(data, "volume.key"));
        Nexnet.Result second = await Nexnet.RunAsync("init", "--data", data);
        Assert.Equal(64, second.Exit);
        Assert.Equal($"nexnet: {data} already holds a node (network.key is there); nothing was changed. Use another --data directory", second.Stderr);
        Assert.Equal(key, File.ReadAllBytes(Path.Combine(data, "volume.key")));
    }

    [Fact]
    public async Task A_member_invite_carries_both_keys_and_a_storage_only_invite_only_the_network_key()
    {
        using var temp = new TempDirectory();
        string a = temp.Combine("a");
        Assert.Equal(0, (await Nexnet.RunAsync("init", "--data", a, "--listen", "127.0.0.1:4998")).Exit);

        Nexnet.Result invite = await Nexnet.RunAsync("invite", "--data", a);
        Assert.True(invite.Exit == 0, invite.ToString());
        Assert.StartsWith("nexnet1.", invite.Stdout, StringComparison.Ordinal);
        Assert.Contains("it will dial 127.0.0.1:4998", invite.Stderr, StringComparison.Ordinal);
        Nexnet.Result joined = await Nexnet.RunWithInputAsync(invite.Stdout + "\n", "join", "--data", temp.Combine("b"));
        Assert.True(joined.Exit == 0, joined.ToString());
        Assert.Equal("", joined.Stderr);
        Assert.Contains("joined the volume", joined.Stdout, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "network.key")), File.ReadAllBytes(temp.Combine("b", "network.key")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "volume.key")), File.ReadAllBytes(temp.Combine("b", "volume.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temp.Combine("b", "volume.key")));
        Assert.Contains("\"127.0.0.1:4998\"", File.ReadAllText(temp.Combine("b", "config.json")), StringComparison.Ordinal);

        Nexnet.Result storage = await Nexnet.RunAsync("invite", "--storage-only", "--address", "10.1.2.3:7000", "--data", a);
        Assert.True(storage.Exit == 0, storage.ToString());
        File.WriteAllText(temp.Combine("storage.token"), storage.Stdout + "\n");
        Nexnet.Result peer = await Nexnet.RunAsync("join", "--token-file", temp.Combine("storage.token"), "--data", temp.Combine("c"));
        Assert.True(peer.Exit == 0, peer.ToString());
        Assert.Equal("", peer.Stderr);
        Assert.Contains("joined as a storage peer", peer.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(temp.Combine("c", "network.key")));
        Assert.False(File.Exists(temp.Combine("c", "volume.key")), "a storage peer gets no volume key");
        Assert.Contains("\"10.1.2.3:7000\"", File.ReadAllText(temp.Combine("c", "config.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_given_as_an_argument_still_joins_with_a_warning_and_two_tokens_are_refused()
    {
        using var temp = new TempDirectory();
        string a = temp.Combine("a");
        string token = await NewVolumeTokenAsync(a, 4996);
        File.WriteAllText(temp.Combine("token"), token);

        Nexnet.Result both = await Nexnet.RunAsync("join", token, "--token-file", temp.Combine("token"), "--data", temp.Combine("b"));
        Assert.Equal(64, both.Exit);
        Assert.Equal("nexnet: give the token once: with --token-file, on stdin, or as an argument", both.Stderr);
        Nexnet.Result missing = await Nexnet.RunAsync("join", "--token-file", temp.Combine("nope"), "--data", temp.Combine("b"));
        Assert.Equal(66, missing.Exit);
        Assert.False(Directory.Exists(temp.Combine("b")), "a refused join creates nothing");

        Nexnet.Result joined = await Nexnet.RunAsync("join", token, "--data", temp.Combine("b"));
        Assert.True(joined.Exit == 0, joined.ToString());
        Assert.Equal("nexnet: warning: a token given as an argument can be seen by other users of this machine (ps) and stays in your shell history; use `nexnet join --token-file FILE` or give it on stdin", joined.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "volume.key")), File.ReadAllBytes(temp.Combine("b", "volume.key")));
    }

    [Fact]
    public async Task Init_join_and_node_make_a_loose_data_directory_owner_only()
    {
        using var temp = new TempDirectory();
        string outside = temp.Combine("outside.txt");
        File.WriteAllText(outside, "not the node's");
        File.SetUnixFileMode(outside, Loose);
        foreach (string name in new[] { "a", "b" })
        {
            // Left 0755 with a 0644 log from an earlier try, as an ordinary mkdir and umask 022 make them.
            Directory.CreateDirectory(temp.Combine(name, "logs"));
            File.WriteAllText(temp.Combine(name, "logs", "old.log"), "earlier");
            File.SetUnixFileMode(temp.Combine(name), LooseFolder);
            File.SetUnixFileMode(temp.Combine(name, "logs"), LooseFolder);
            File.SetUnixFileMode(temp.Combine(name, "logs", "old.log"), Loose);
            File.CreateSymbolicLink(temp.Combine(name, "link.txt"), outside);
        }

        Assert.Equal(0, (await Nexnet.RunAsync("init", "--data", temp.Combine("a"), "--listen", "127.0.0.1:0")).Exit);
        AssertOwnerOnly(temp.Combine("a"), "config.json", "logs/", "logs/old.log");
        Nexnet.Result invite = await Nexnet.RunAsync("invite", "--address", "127.0.0.1:1", "--data", temp.Combine("a"));
        Assert.Equal(0, (await Nexnet.RunWithInputAsync(invite.Stdout, "join", "--data", temp.Combine("b"), "--listen", "127.0.0.1:0")).Exit);
        AssertOwnerOnly(temp.Combine("b"), "config.json", "logs/", "logs/old.log");
        Assert.Equal(Loose, File.GetUnixFileMode(outside)); // a link is not followed

        // A data directory loosened after init is tightened by the node, and what the node makes (SQLite's files,
        // the blob store, its log, WebDAV's prefix, its certificate) is born owner-only.
        string data = temp.Combine("a");
        File.SetUnixFileMode(data, LooseFolder);
        File.SetUnixFileMode(Path.Combine(data, "config.json"), Loose);
        File.SetUnixFileMode(Path.Combine(data, "logs"), LooseFolder);
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data, "--webdav", "127.0.0.1:0");
        AssertOwnerOnly(data, "config.json", "logs/", "logs/old.log", "logs/nexnet.log", "meta.db", "meta.db-wal", "meta.db-shm", "node.crt", "node.key", "webdav.password", "blobs/");
        Assert.Equal((UnixFileMode)0, File.GetUnixFileMode(Path.Combine(data, "control.sock")) & (UnixFileMode)0x3F); // nothing for group or others
    }

    private const UnixFileMode Loose = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead; // 0644
    private const UnixFileMode LooseFolder = Loose | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute; // 0755

    /// <summary>The data directory is 0700, each named file 0600 and each named folder (a trailing /) 0700.</summary>
    private static void AssertOwnerOnly(string data, params string[] names)
    {
        const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        const UnixFileMode Folder700 = File600 | UnixFileMode.UserExecute;
        Assert.True(File.GetUnixFileMode(data) == Folder700, $"{data}: {File.GetUnixFileMode(data)}");
        foreach (string name in names)
        {
            string path = Path.Combine(data, name.TrimEnd('/'));
            UnixFileMode expected = name.EndsWith('/') ? Folder700 : File600;
            Assert.True(File.GetUnixFileMode(path) == expected, $"{name}: {File.GetUnixFileMode(path)}, expected {expected}");
        }
    }

    [Fact]
    public async Task Bad_and_truncated_tokens_are_refused_with_nothing_created()
    {
        using var temp = new TempDirectory();
        string a = temp.Combine("a");
        string token = await NewVolumeTokenAsync(a, 4997);

        Nexnet.Result garbage = await Nexnet.RunWithInputAsync("hello-world", "join", "-", "--data", temp.Combine("b"));
        Assert.Equal(65, garbage.Exit);
        Assert.Equal("nexnet: this is not a NexNet invite token (one starts with \"nexnet1.\"): ask for a new one with `nexnet invite`", garbage.Stderr);

        Nexnet.Result truncated = await Nexnet.RunWithInputAsync(token[..(token.Length - 5)], "join", "--data", temp.Combine("b"));
        Assert.Equal(65, truncated.Exit);
        Assert.Equal("nexnet: the invite token is damaged or cut short (its check does not match): copy the whole token again, it is one line", truncated.Stderr);

        char flipped = token[20] == 'A' ? 'B' : 'A';
        Nexnet.Result mistyped = await Nexnet.RunWithInputAsync(token[..20] + flipped + token[21..], "join", "--data", temp.Combine("b"));
        Assert.Equal(65, mistyped.Exit);
        Nexnet.Result empty = await Nexnet.RunAsync("join", "--data", temp.Combine("b"));
        Assert.Equal(64, empty.Exit);
        Assert.Equal("nexnet: no invite token on stdin: pipe it in (`nexnet join < FILE`), use --token-file FILE, or give it as an argument", empty.Stderr);
        Assert.False(Directory.Exists(temp.Combine("b")), "a refused token creates nothing");
    }

    [Fact]
    public async Task Commands_on_a_missing_data_directory_say_how_to_make_one()
    {
        using var temp = new TempDirectory();
        string missing = temp.Combine("nowhere");
        foreach (string[] command in new[] { new[] { "status" }, ["ls"], ["node"], ["invite"], ["get", "/x"] })
        {
            Nexnet.Result result = await Nexnet.RunAsync([.. command, "--data", missing]);
            Assert.True(result.Exit == 66, $"{command[0]}: {result}");
            Assert.Equal($"nexnet: there is no NexNet data directory at {missing}: create one with `nexnet init` (a new volume) or `nexnet join --token-file FILE` (an existing one), or point --data at yours", result.Stderr);
        }
    }

    [Fact]
    public async Task Commands_against_a_data_directory_with_no_node_running_say_so()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        Assert.Equal(0, (await Nexnet.RunAsync("init", "--data", data)).Exit);
        foreach (string[] command in new[] { new[] { "status" }, ["ls", "/"], ["get", "/x"], ["rm", "/x"] })
        {
            Nexnet.Result result = await Nexnet.RunAsync([.. command, "--data", data]);
            Assert.True(result.Exit == 69, $"{command[0]}: {result}");
            Assert.Equal($"nexnet: no node is running on {data}: start one with `nexnet node` (or `nexnet mount DIR`) and try again", result.Stderr);
        }

        File.WriteAllText(temp.Combine("local.txt"), "x");
        Nexnet.Result put = await Nexnet.RunAsync("put", temp.Combine("local.txt"), "--data", data);
        Assert.Equal(69, put.Exit);
    }

    [Fact]
    public async Task A_data_directory_this_user_may_not_enter_is_a_permission_error()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        Assert.Equal(0, (await Nexnet.RunAsync("init", "--data", data)).Exit);
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1ED); // 0755: the test runs as root, the directory below is nobody's
        Assert.Equal(0, await RunAsync("chown", "-R", "nobody", data));

        // Root without capabilities is an ordinary user to the kernel's permission checks.
        string[] unprivileged = ["setpriv", "--bounding-set", "-all", "--"];
        foreach (string[] command in new[] { new[] { "status" }, ["node"], ["init"] })
        {
            Nexnet.Result result = await Nexnet.RunWithAsync(unprivileged, [.. command, "--data", data]);
            Assert.True(result.Exit == 77, $"{command[0]}: {result}");
            Assert.Equal($"nexnet: permission denied on the data directory {data}: run as the user who owns it, or fix its owner and mode (ls -ld {data})", result.Stderr);
        }
    }

    [Fact]
    public async Task A_port_in_use_is_named_with_what_to_do()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        Assert.Equal(0, (await Nexnet.RunAsync("init", "--data", data)).Exit);
        Nexnet.Result result = await Nexnet.RunAsync("node", "--data", data, "--listen", $"127.0.0.1:{port}");
        Assert.Equal(69, result.Exit);
        Assert.EndsWith($"nexnet: cannot listen on 127.0.0.1:{port}: the port is in use by another program; choose another with --listen HOST:PORT (port 0 picks a free one)", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_errors_exit_64_with_a_pointer_to_help()
    {
        Nexnet.Result nothing = await Nexnet.RunAsync();
        Assert.Equal(64, nothing.Exit);
        Nexnet.Result unknown = await Nexnet.RunAsync("put");
        Assert.Equal(64, unknown.Exit);
        Assert.StartsWith("nexnet: ", unknown.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("(see `nexnet put --help`)", unknown.Stderr, StringComparison.Ordinal);
        Nexnet.Result badListen = await Nexnet.RunAsync("init", "--data", "/tmp/never-made-" + Guid.NewGuid(), "--listen", "nonsense");
        Assert.Equal(64, badListen.Exit);
        Assert.Equal("nexnet: --listen must be HOST:PORT with an IP address, e.g. 0.0.0.0:4747 (port 0 picks a free one); got \"nonsense\"", badListen.Stderr);
        Nexnet.Result help = await Nexnet.RunAsync("--help");
        Assert.Equal(0, help.Exit);
        foreach (string command in new[] { "init", "invite", "join", "node", "mount", "unmount", "put", "get", "ls", "rm", "status", "demo" })
        {
            Assert.Contains(command, help.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Unmount_of_a_directory_that_is_not_a_mount_says_so()
    {
        using var temp = new TempDirectory();
        Nexnet.Result result = await Nexnet.RunAsync("unmount", temp.Path);
        Assert.Equal(66, result.Exit);
        Assert.Equal($"nexnet: nothing is mounted at {temp.Path}", result.Stderr);
    }

    /// <summary>The demo's run itself is DemoTests' (the same Demo.RunAsync, in process); here its command line.</summary>
    [Fact]
    public async Task The_demo_command_refuses_a_bad_port_list()
    {
        Nexnet.Result bad = await Nexnet.RunAsync("demo", "--ports", "1,2");
        Assert.Equal(64, bad.Exit);
        Assert.Equal("nexnet: --ports needs three ports separated by commas, e.g. 3000,4000,5000; got \"1,2\"", bad.Stderr);
    }

    /// <summary>Makes a volume in <paramref name="data"/> listening on 127.0.0.1:<paramref name="port"/> and returns a member invite to it.</summary>
    private static async Task<string> NewVolumeTokenAsync(string data, int port)
    {
        Assert.Equal(0, (await Nexnet.RunAsync("init", "--data", data, "--listen", $"127.0.0.1:{port}")).Exit);
        Nexnet.Result invite = await Nexnet.RunAsync("invite", "--data", data);
        Assert.True(invite.Exit == 0, invite.ToString());
        return invite.Stdout;
    }

    private static async Task<int> RunAsync(string program, params string[] args)
    {
        using ChildProcess process = ChildProcess.Start(program, args).StartCollecting();
        return await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
    }
}
