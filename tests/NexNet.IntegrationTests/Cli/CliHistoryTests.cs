using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace NexNet.IntegrationTests.Cli;

/// <summary>Retention against a real <c>nexnet node</c> with its timers shortened in config.json: what history keeps outlives the grace, and goes with retention, unless a snapshot holds it.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliHistoryTests : IDisposable
{
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(1), s_interval = TimeSpan.FromMilliseconds(300), s_retention = TimeSpan.FromSeconds(8);

    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_deleted_files_chunks_outlive_the_grace_and_stay_restorable_then_go_with_retention_while_a_snapshot_keeps_its_version()
    {
        string data = _dir.Combine("data");
        await Nexnet.InitAsync(data, ("collectionGraceMinutes", s_grace.TotalMinutes), ("collectionIntervalSeconds", s_interval.TotalSeconds),
            ("historyDays", s_retention.TotalDays));
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data);

        byte[] big = RandomNumberGenerator.GetBytes(3_000_000), pinned = RandomNumberGenerator.GetBytes(200_000);
        await PutAsync(data, "/pinned.bin", pinned);
        await RunAsync(data, "snapshot", "create", "keep"); // before /big.bin exists: it pins nothing of that
        await PutAsync(data, "/pinned.bin", [1, 2, 3]);
        HashSet<string> before = Blobs(data);
        await PutAsync(data, "/big.bin", big);
        HashSet<string> bigChunks = [.. Blobs(data).Except(before)];
        Assert.Equal(3, bigChunks.Count);

        DateTimeOffset beforeDeletion = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > beforeDeletion.AddMilliseconds(2), TimeSpan.FromSeconds(5), "the clock moves on");
        await RunAsync(data, "rm", "/big.bin");
        DateTimeOffset deleted = DateTimeOffset.UtcNow;

        // Past the grace and several collection passes: history still holds the chunks, and restores the file.
        await Eventually.WaitAsync(() => DateTimeOffset.UtcNow > deleted + s_grace + (4 * s_interval), TimeSpan.FromSeconds(30), "the grace and four passes go by");
        Assert.Superset(bigChunks, Blobs(data));
        await RunAsync(data, "restore", "/big.bin", "--at", beforeDeletion.ToString("O", CultureInfo.InvariantCulture), "--to", "/big-back.bin");
        Assert.Equal(big, await GetAsync(data, "/big-back.bin"));
        await RunAsync(data, "rm", "/big-back.bin");
        DateTimeOffset lastReplaced = DateTimeOffset.UtcNow;

        // Once retention has passed since the deletions, the pruning pass lets the versions go and collection their chunks.
        await Eventually.WaitAsync(() => !Blobs(data).Overlaps(bigChunks), s_retention + s_grace + TimeSpan.FromSeconds(30), "the deleted file's chunks are collected after retention");
        Assert.True(DateTimeOffset.UtcNow - lastReplaced >= s_retention, "collected only after retention");
        JsonArray bigHistory = (JsonArray)JsonNode.Parse((await RunAsync(data, "history", "/big.bin", "--json")).Stdout)!;
        Assert.Equal(["deleted"], bigHistory.Select(v => (string?)v!["change"])); // only the tombstone is left, current forever

        // The snapshot outlived retention: the version it pinned is still there, whole.
        JsonArray versions = (JsonArray)JsonNode.Parse((await RunAsync(data, "history", "/pinned.bin", "--json")).Stdout)!;
        Assert.Equal([200_000L, 3L], versions.Select(v => (long)v!["size"]!));
        await RunAsync(data, "restore", "/pinned.bin", "--version", "1", "--to", "/pinned-v1.bin");
        Assert.Equal(pinned, await GetAsync(data, "/pinned-v1.bin"));

        JsonObject status = (JsonObject)JsonNode.Parse((await RunAsync(data, "status", "--json")).Stdout)!;
        Assert.Equal(1, (int)status["history"]!["snapshots"]!);
        Assert.True((long)status["history"]!["versions"]! >= 1);
    }

    private static HashSet<string> Blobs(string data) =>
        [.. Directory.GetFiles(Path.Combine(data, "blobs"), "*", SearchOption.AllDirectories).Select(f => Path.GetFileName(f)).Where(n => n.Length == 64)];

    private async Task PutAsync(string data, string path, byte[] content)
    {
        string local = _dir.Combine(Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(local, content, Ct);
        await RunAsync(data, "put", local, path);
    }

    private async Task<byte[]> GetAsync(string data, string path)
    {
        string local = _dir.Combine(Guid.NewGuid().ToString("N"));
        await RunAsync(data, "get", path, local);
        return await File.ReadAllBytesAsync(local, Ct);
    }

    private static async Task<Nexnet.Result> RunAsync(string data, params string[] args)
    {
        Nexnet.Result result = await Nexnet.RunAsync([.. args, "--data", data]);
        Assert.True(result.Exit == 0, $"nexnet {string.Join(' ', args)}: {result}");
        return result;
    }

    public void Dispose() => _dir.Dispose();
}
