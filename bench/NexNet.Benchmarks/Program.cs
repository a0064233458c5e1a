using BenchmarkDotNet.Running;
using NexNet.Benchmarks;

// `store` and `crypto` are the measurements bench/foundation.sh interleaves with dd and openssl in
// one run; anything else goes to BenchmarkDotNet (e.g. `--filter *CryptoBenchmarks*`).
return args switch
{
    ["store", .. var rest] => await StoreThroughput.RunAsync(rest),
    ["crypto", .. var rest] => CryptoThroughput.Run(rest),
    ["p2p", .. var rest] => await P2PThroughput.RunAsync(rest),
    ["node", .. var rest] => await NodeThroughput.RunAsync(rest),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(StoreThroughput).Assembly).Run(args);
    return 0;
}
