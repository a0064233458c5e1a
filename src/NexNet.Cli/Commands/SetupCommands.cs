using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using NexNet.Cli.Control;
using NexNet.Crypto;
using NexNet.Node;

namespace NexNet.Cli.Commands;

/// <summary><c>init</c>, <c>invite</c> and <c>join</c>: making a volume, and bringing another machine into it.</summary>
internal static class SetupCommands
{
    public static Command Init(GlobalOptions global)
    {
        var command = new Command("init", "Create a new volume: fresh keys (mode 0600) and config.json in the data directory");
        command.SetAction((result, cancellationToken) => CommandLine.Guard(() =>
        {
            string data = global.DataDirectoryOf(result);
            string listen = result.GetValue(global.Listen) ?? new NodeConfig().Listen;
            var config = new NodeConfig { Listen = listen, Join = global.JoinOf(result) };
            _ = NodeConfig.ParseEndPoint(config.Listen, "--listen");
            RefuseExisting(data);
            DataDirectory.Create(data);
            DataDirectory.MakePrivate(data);
            KeyFile.CreateNew(Path.Combine(data, NexNetNode.NetworkKeyFile));
            KeyFile.CreateNew(Path.Combine(data, NexNetNode.VolumeKeyFile));
            config.Save(data);
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(new JsonObject { ["dataDirectory"] = data, ["listen"] = config.Listen }.ToJsonString());
            }
            else
            {
                Console.WriteLine($"nexnet: created a new volume in {data}");
                Console.WriteLine($"  keys: {NexNetNode.NetworkKeyFile} and {NexNetNode.VolumeKeyFile} (mode 0600; without volume.key nobody can read the files, keep a copy somewhere safe)");
                Console.WriteLine($"  next: `nexnet mount DIR` to use it as a folder, or `nexnet node` to run it; `nexnet invite` to add another machine");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    public static Command Invite(GlobalOptions global)
    {
        var storageOnly = new Option<bool>("--storage-only") { Description = "A token for a storage peer: it stores and serves chunks but gets no volume key, so it can read nothing" };
        var address = new Option<string?>("--address") { Description = "The address (HOST:PORT) the new node should dial; default: this node's" };
        var command = new Command("invite", "Print a token another machine passes to `nexnet join` (it carries secrets: send it privately)") { storageOnly, address };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(async () =>
        {
            string data = global.DataDirectoryOf(result);
            DataDirectory.RequireInitialised(data);
            string bootstrap = result.GetValue(address) ?? await AddressOfAsync(data, cancellationToken);
            byte[] network = KeyFile.Read(Path.Combine(data, NexNetNode.NetworkKeyFile));
            string volumePath = Path.Combine(data, NexNetNode.VolumeKeyFile);
            bool member = !result.GetValue(storageOnly);
            if (member && !File.Exists(volumePath))
            {
                throw new CliException($"{data} is a storage peer (no volume key): it can only invite storage peers, with --storage-only", ExitCodes.Usage);
            }

            byte[]? volume = member ? KeyFile.Read(volumePath) : null;
            byte[]? publicKey = member ? null : VolumePublicKeyOf(data);
            if (!member && publicKey is null)
            {
                Console.Error.WriteLine($"nexnet: {data} has no volume public key ({NexNetNode.VolumePublicKeyFile}): the storage peer this token makes will keep no records until it gets one (join again with a storage-only token from a member)");
            }

            string token = new InviteToken(bootstrap, network, volume, publicKey).Encode();
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(new JsonObject { ["token"] = token, ["address"] = bootstrap, ["member"] = member }.ToJsonString());
            }
            else
            {
                Console.WriteLine(token);
                Console.Error.WriteLine(member
                    ? $"nexnet: on the other machine run `nexnet join --token-file FILE` (or with the token on stdin); it will dial {bootstrap}. The token holds the volume key: whoever has it can read every file."
                    : $"nexnet: on the other machine run `nexnet join --token-file FILE` (or with the token on stdin); it will dial {bootstrap} and store chunks it cannot read.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Join(GlobalOptions global)
    {
        var token = new Argument<string?>("TOKEN")
        {
            Description = "What `nexnet invite` printed; left out or -: read from stdin (an argument is visible to other users and kept in shell history)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var tokenFile = new Option<string?>("--token-file") { Description = "Read the token from this file" };
        var command = new Command("join", "Set up this machine's data directory from an invite token (on stdin, in --token-file, or as an argument)") { token, tokenFile };
        command.SetAction((result, cancellationToken) => CommandLine.Guard(() =>
        {
            InviteToken invite = InviteToken.Decode(ReadToken(result.GetValue(token), result.GetValue(tokenFile)));
            string data = global.DataDirectoryOf(result);
            if (TryAddPublicKey(data, invite))
            {
                Console.WriteLine($"nexnet: added the volume public key to the storage peer in {data}: once its node is (re)started it keeps and relays the records members signed");
                return Task.FromResult(ExitCodes.Ok);
            }

            RefuseExisting(data);
            var config = new NodeConfig
            {
                Listen = result.GetValue(global.Listen) ?? new NodeConfig().Listen,
                Join = [invite.Address, .. global.JoinOf(result)],
            };
            _ = NodeConfig.ParseEndPoint(config.Listen, "--listen");
            DataDirectory.Create(data);
            DataDirectory.MakePrivate(data);
            KeyFile.Write(Path.Combine(data, NexNetNode.NetworkKeyFile), invite.NetworkSecret);
            if (invite.VolumeSecret is { } volume)
            {
                KeyFile.Write(Path.Combine(data, NexNetNode.VolumeKeyFile), volume);
            }
            else if (invite.VolumePublicKey is { } publicKey)
            {
                KeyFile.WritePublic(Path.Combine(data, NexNetNode.VolumePublicKeyFile), publicKey);
            }

            config.Save(data);
            if (result.GetValue(global.Json))
            {
                Console.WriteLine(new JsonObject { ["dataDirectory"] = data, ["member"] = invite.IsMember, ["join"] = invite.Address }.ToJsonString());
            }
            else
            {
                Console.WriteLine(invite.IsMember
                    ? $"nexnet: joined the volume in {data}; the node will dial {invite.Address}"
                    : $"nexnet: joined as a storage peer in {data} (it stores chunks it cannot read); the node will dial {invite.Address}");
                Console.WriteLine(invite.IsMember
                    ? "  next: `nexnet mount DIR` to use the volume as a folder, or `nexnet node` to run the node"
                    : "  next: `nexnet node` to run the node");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>The volume's public signing key as this data directory knows it: derived from volume.key on a member, volume.pub on a storage peer.</summary>
    private static byte[]? VolumePublicKeyOf(string data)
    {
        string volumePath = Path.Combine(data, NexNetNode.VolumeKeyFile);
        if (File.Exists(volumePath))
        {
            byte[] secret = KeyFile.Read(volumePath);
            using VolumeKeys keys = VolumeKeys.Derive(secret);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
            using VolumeSigner signer = VolumeSigner.Create(keys);
            return signer.PublicKey;
        }

        string publicPath = Path.Combine(data, NexNetNode.VolumePublicKeyFile);
        return File.Exists(publicPath) ? File.ReadAllBytes(publicPath) : null;
    }

    /// <summary>
    /// The migration of a storage peer set up before records were signed: a storage-only token of the same
    /// network adds the volume public key to it and changes nothing else. False when it does not apply.
    /// </summary>
    private static bool TryAddPublicKey(string data, InviteToken invite)
    {
        if (invite.IsMember || invite.VolumePublicKey is null || !DataDirectory.IsInitialised(data)
            || File.Exists(Path.Combine(data, NexNetNode.VolumeKeyFile)) || File.Exists(Path.Combine(data, NexNetNode.VolumePublicKeyFile)))
        {
            return false;
        }

        byte[] network = KeyFile.Read(Path.Combine(data, NexNetNode.NetworkKeyFile));
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(network, invite.NetworkSecret))
        {
            throw new CliException($"{data} is a storage peer of another network (the token's network key differs); nothing was changed", ExitCodes.Usage);
        }

        KeyFile.WritePublic(Path.Combine(data, NexNetNode.VolumePublicKeyFile), invite.VolumePublicKey);
        return true;
    }

    /// <summary>The token from --token-file, stdin (no argument, or -), or the argument, which is warned about.</summary>
    private static string ReadToken(string? argument, string? file)
    {
        if (file is not null)
        {
            if (argument is not null)
            {
                throw new CliException("give the token once: with --token-file, on stdin, or as an argument", ExitCodes.Usage);
            }

            return File.Exists(file)
                ? File.ReadAllText(file).Trim()
                : throw new CliException($"the token file {file} does not exist", ExitCodes.NotFound);
        }

        if (argument is not null && argument != "-")
        {
            Console.Error.WriteLine("nexnet: warning: a token given as an argument can be seen by other users of this machine (ps) and stays in your shell history; use `nexnet join --token-file FILE` or give it on stdin");
            return argument;
        }

        if (!Console.IsInputRedirected)
        {
            Console.Error.Write("nexnet: paste the invite token and press Enter: ");
        }

        string read = (Console.IsInputRedirected ? Console.In.ReadToEnd() : Console.ReadLine() ?? "").Trim();
        return read.Length > 0
            ? read
            : throw new CliException("no invite token on stdin: pipe it in (`nexnet join < FILE`), use --token-file FILE, or give it as an argument", ExitCodes.Usage);
    }

    private static void RefuseExisting(string data)
    {
        if (Directory.Exists(data))
        {
            DataDirectory.RequireAccess(data);
        }

        if (DataDirectory.IsInitialised(data))
        {
            throw new CliException($"{data} already holds a node ({NexNetNode.NetworkKeyFile} is there); nothing was changed. Use another --data directory", ExitCodes.Usage);
        }
    }

    /// <summary>The address an invited node should dial: the running node's (its real port), else config.json's; an unspecified host becomes this machine's address.</summary>
    private static async Task<string> AddressOfAsync(string data, CancellationToken cancellationToken)
    {
        string listen;
        try
        {
            listen = (string?)(await ControlClient.StatusAsync(data, cancellationToken))["listen"] ?? "";
        }
        catch (CliException e) when (e.ExitCode == ExitCodes.Unavailable)
        {
            listen = NodeConfig.Load(data).Listen;
        }

        IPEndPoint endPoint = NodeConfig.ParseEndPoint(listen, "the node's listen address");
        if (endPoint.Port == 0)
        {
            throw new CliException("the node listens on port 0 (any free port) and is not running, so its port is unknown: start it first, or pass --address HOST:PORT", ExitCodes.Usage);
        }

        if (endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any))
        {
            endPoint.Address = ThisMachine();
        }

        return endPoint.ToString();
    }

    private static IPAddress ThisMachine() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;
}
