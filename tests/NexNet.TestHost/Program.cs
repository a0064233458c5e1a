using NexNet.TestHost;

return args switch
{
    ["put-blobs", string dir] => BlobPutter.Run(dir),
    ["write-streams", string dir] => await BatchedStreamWriter.RunAsync(dir),
    ["p2p-node", string dir, .. var bootstrap] => await P2PNode.RunAsync(dir, bootstrap),
    ["node", string dir, string r, .. var bootstrap] => await NodeHost.RunAsync(dir, int.Parse(r, System.Globalization.CultureInfo.InvariantCulture), bootstrap),
    ["store-stream", string dir, string bytes] => await StreamStorer.RunAsync(dir, long.Parse(bytes, System.Globalization.CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: NexNet.TestHost put-blobs DIR | write-streams DIR | p2p-node DIR [BOOTSTRAP...] | store-stream DIR BYTES | node DIR R [BOOTSTRAP...]");
    return 2;
}
