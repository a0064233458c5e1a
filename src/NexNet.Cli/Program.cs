using NexNet.Cli;

return args switch
{
    ["demo"] => await Demo.RunAsync(Console.Out, Demo.DefaultPorts, CancellationToken.None),
    ["demo", "--ports", string ports] when Demo.TryParsePorts(ports, out int[]? parsed) => await Demo.RunAsync(Console.Out, parsed, CancellationToken.None),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: nexnet demo [--ports P1,P2,P3]   (default 3000,4000,5000; 0 picks free ports)");
    return 2;
}
