using BenchmarkDotNet.Running;
using NexNet.Benchmarks;

// `store ...` runs the end-to-end store measurement that bench/foundation.sh interleaves with dd;
// anything else goes to BenchmarkDotNet (e.g. `--filter *AesCtr*`).
if (args.Length > 0 && args[0] == "store")
{
    return await StoreThroughput.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(StoreThroughput).Assembly).Run(args);
return 0;
