using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.IntegrationTests.Node;

/// <summary>
/// Deferred file commits (the mount's closes) live in the commit journal until a background batch
/// stores them. A crash image taken while they are only there — the data directory's files as a killed
/// process leaves them — must come back whole at the next start.
/// </summary>
public sealed class CommitJournalTests
{
    [Fact]
    public async Task Commits_only_in_the_journal_are_replayed_at_the_next_start()
    {
        using var image = new TempDirectory();
        byte[] big = RandomNumberGenerator.GetBytes(300_000);
        await CrashImageWithJournaledCommitsAsync(image.Path, big);
        var log = new LogCapture("restarted");
        await using NexNetNode restarted = NexNetNode.Start(image.Path, FastNodeOptions.Create(replicationFactor: 1), log);
        AssertBoth(restarted.Volume!, big, log);
        Assert.True(log.Contains("replayed 2 of 2 file commits from the commit journal"), log.Dump());
        Assert.Equal(0, new FileInfo(Path.Combine(image.Path, "commits.journal")).Length);
    }

    [Fact]
    public async Task A_journal_cut_off_mid_record_keeps_every_whole_record_and_says_so_in_one_line()
    {
        using var image = new TempDirectory();
        byte[] big = RandomNumberGenerator.GetBytes(300_000);
        await CrashImageWithJournaledCommitsAsync(image.Path, big);
        await using (FileStream journal = new(Path.Combine(image.Path, "commits.journal"), FileMode.Append))
        {
            journal.Write([200, 0, 0, 0, 1, 2, 3]); // a frame of 200 bytes of which 3 were written
        }

        var log = new LogCapture("restarted");
        await using NexNetNode restarted = NexNetNode.Start(image.Path, FastNodeOptions.Create(replicationFactor: 1), log);
        AssertBoth(restarted.Volume!, big, log);
        Assert.Single(log.Lines, l => l.Contains("ends in a frame of 200 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deferred_commit_is_listed_at_once_and_reaches_the_database_without_any_call()
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(1);
        NexNetNode node = cluster[0];
        Volume volume = node.Volume!;
        volume.CommitFile("/d/x.txt", ChunkList.Small(volume.ChunkSize, "x"u8.ToArray()), 0x1A4, DateTimeOffset.UtcNow);
        Assert.Equal(["x.txt"], volume.List("/d").Select(e => e.Name));
        string journal = Path.Combine(node.DataDirectory, "commits.journal");
        volume.CommitFile("/d/y.txt", ChunkList.Small(volume.ChunkSize, "y"u8.ToArray()), 0x1A4, DateTimeOffset.UtcNow);
        await Eventually.WaitAsync(() => new FileInfo(journal).Length == 0, TimeSpan.FromSeconds(10), "the applier stores the commit and empties the journal");
        Assert.Equal(3, node.Status().Entries); // the two files and their directory
    }

    /// <summary>Commits two files while the applier is held, and copies the data directory then: what kill -9 would leave, the commits only in the journal.</summary>
    private static async Task CrashImageWithJournaledCommitsAsync(string image, byte[] big)
    {
        await using NodeCluster cluster = await NodeCluster.StartAsync(1);
        NexNetNode node = cluster[0];
        node.Tree.ApplierPaused = true;
        CommitBoth(node.Volume!, big);
        Assert.True(new FileInfo(Path.Combine(node.DataDirectory, "commits.journal")).Length > 0, "the commits wait in the journal");
        CopyDirectory(node.DataDirectory, image);
    }

    private static void CommitBoth(Volume volume, byte[] big)
    {
        ChunkId id = volume.StoreChunk(big);
        volume.CommitFile("/a/big.bin", new ChunkList(volume.ChunkSize, big.Length, [id]), 0x1A4, DateTimeOffset.UtcNow);
        volume.ReleaseChunk(id);
        volume.CommitFile("/a/small.txt", ChunkList.Small(volume.ChunkSize, "small and inline"u8.ToArray()), 0x180, DateTimeOffset.UtcNow);
        Assert.Equal(big.Length, volume.Stat("/a/big.bin")!.Size);
    }

    private static void AssertBoth(Volume volume, byte[] big, LogCapture log)
    {
        Assert.Equal(["big.bin", "small.txt"], volume.List("/a").Select(e => e.Name));
        using var copy = new MemoryStream();
        using (Stream read = volume.OpenRead("/a/big.bin"))
        {
            read.CopyTo(copy);
        }

        Assert.True(big.AsSpan().SequenceEqual(copy.ToArray()), log.Dump());
        Assert.Equal(0x180u, volume.Stat("/a/small.txt")!.Mode);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("-shm", StringComparison.Ordinal)))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal), overwrite: true);
        }
    }
}
