using System.Globalization;
using NexNet.Node;
using NexNet.Tests.Shared;

namespace NexNet.TestHost;

/// <summary>
/// A full node as its own process, driven over stdin: each line is <c>TAG COMMAND ARGS</c> and is
/// answered (concurrently with other commands) by a line <c>TAG ok ...</c> or <c>TAG error ...</c>.
/// Prints <c>listening ADDR ID</c> first and its log as <c>log: ...</c> lines. Test timers are short.
/// </summary>
/// <remarks>
/// Commands: <c>gen PATH BYTES SEED</c> and <c>check PATH BYTES SEED</c> (store and verify a pattern file
/// without a temp file), <c>put PATH LOCAL</c>, <c>get PATH LOCAL</c>, <c>ls PATH</c>, <c>stat PATH</c>, <c>rm PATH</c>,
/// <c>chunks</c>, <c>file-chunks PATH</c>, <c>drop-chunks</c>, <c>collect</c>, <c>sync</c>, <c>repair</c>, <c>offline</c>, <c>online</c>, <c>status</c>.
/// </remarks>
internal static class NodeHost
{
    public static async Task<int> RunAsync(string dir, int replicationFactor, string[] bootstrap)
    {
        NodeOptions options = FastNodeOptions.Create(bootstrap, replicationFactor);
        options.HistoryRetention = TimeSpan.Zero; // these nodes test other things: they keep no history
        await using NexNetNode node = NexNetNode.Start(dir, options, new StdoutLogger());
        StdoutLogger.Say($"listening {node.Address} {node.Id}");
        var running = new List<Task>();
        while (await Console.In.ReadLineAsync() is { } line)
        {
            running.Add(Task.Run(() => AnswerAsync(node, line)));
        }

        await Task.WhenAll(running);
        return 0;
    }

    private static async Task AnswerAsync(NexNetNode node, string line)
    {
        string[] words = line.Split(' ');
        string tag = words[0];
        try
        {
            string result = await ExecuteAsync(node, words[1..]);
            StdoutLogger.Say($"{tag} ok {result}".TrimEnd());
        }
        catch (Exception e)
        {
            StdoutLogger.Say($"{tag} error {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static async Task<string> ExecuteAsync(NexNetNode node, string[] args)
    {
        Volume Volume() => node.Volume ?? throw new InvalidOperationException("not a member");
        switch (args)
        {
            case ["gen", string path, string bytes, string seed]:
                await Volume().WriteFileAsync(path, new PatternStream(Long(bytes), ulong.Parse(seed, CultureInfo.InvariantCulture)));
                return "";
            case ["check", string path, string bytes, string seed]:
                await using (Stream read = Volume().OpenRead(path))
                {
                    long diff = await PatternStream.FirstDifferenceAsync(read, Long(bytes), ulong.Parse(seed, CultureInfo.InvariantCulture));
                    return diff < 0 ? "" : throw new InvalidDataException($"{path} differs from its pattern at byte {diff}");
                }

            case ["put", string path, string local]:
                await using (FileStream source = File.OpenRead(local))
                {
                    await Volume().WriteFileAsync(path, source);
                }

                return "";
            case ["get", string path, string local]:
                await using (Stream read = Volume().OpenRead(path))
                await using (FileStream target = File.Create(local))
                {
                    await read.CopyToAsync(target);
                    return target.Length.ToString(CultureInfo.InvariantCulture);
                }

            case ["ls", string path]:
                return string.Join('|', Volume().List(path).Select(e => e.Name));
            case ["stat", string path]:
                return Volume().Stat(path) is { } info ? $"{info.Kind} {info.Size}" : "none";
            case ["rm", string path]:
                Volume().Delete(path, recursive: true);
                return "";
            case ["chunks"]:
                return string.Join(' ', node.LocalChunks());
            case ["file-chunks", string path]:
                return string.Join(' ', Volume().Stat(path)?.Content?.Chunks ?? []);
            case ["drop-chunks"]:
                node.DropLocalChunks();
                return "";
            case ["collect"]:
                return node.CollectGarbage(TimeSpan.Zero).ToString(CultureInfo.InvariantCulture);
            case ["sync"]:
                await node.SyncNowAsync();
                return "";
            case ["repair"]:
                node.Repair();
                return "";
            case ["offline"]:
                await node.Network.SetOffline(true);
                return "";
            case ["online"]:
                await node.Network.SetOffline(false);
                return "";
            case ["status"]:
                NodeStatus s = node.Status();
                return FormattableString.Invariant(
                    $"blobs={s.Blobs} records={s.Records} entries={s.Entries} backlog={s.ReplicationBacklogChunks} peers={s.ConnectedPeers} members={s.Members} fetched={s.ChunksFetched} rss={ProcessMemory.PeakRssKib()} dialing={node.Network.DialingAddresses.Count} rejected={s.RecordsRejected}");
            default:
                throw new ArgumentException($"unknown command: {string.Join(' ', args)}");
        }
    }

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}
