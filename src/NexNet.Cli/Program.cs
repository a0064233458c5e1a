using NexNet.Cli;

return args switch
{
    ["demo"] => await Demo.RunAsync(Console.Out, Demo.DefaultPorts, CancellationToken.None),
    ["demo", "--ports", string ports] when Demo.TryParsePorts(ports, out int[]? parsed) => await Demo.RunAsync(Console.Out, parsed, CancellationToken.None),
    ["mount", .. var rest] => await MountAsync(rest),
    _ => Usage(),
};

static async Task<int> MountAsync(string[] rest)
{
    if (MountOptions.Parse(rest, out string? error) is not { } options)
    {
        Console.Error.WriteLine($"nexnet: {error}");
        return 2;
    }

    return await MountCommand.RunAsync(options, Console.Out);
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: nexnet mount DIR [--data DIR] [--listen HOST:PORT] [--join HOST:PORT]... [--verbose]
               nexnet mount --demo ROOT     three connected nodes mounted at ROOT/a, ROOT/b, ROOT/c
               nexnet demo [--ports P1,P2,P3]   (default 3000,4000,5000; 0 picks free ports)
        """);
    return 2;
}
