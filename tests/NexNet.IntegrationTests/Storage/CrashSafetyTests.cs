using NexNet.Crypto;
using NexNet.Storage;

namespace NexNet.IntegrationTests.Storage;

/// <summary>
/// kill -9 of a process in the middle of putting blobs, many times over one store: after each reopen no
/// partial blob is visible and every put the child acknowledged is present and intact.
/// </summary>
public sealed class CrashSafetyTests : IDisposable
{
    private const int Kills = 30;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    [Fact]
    public Task Killed_writers_leave_only_whole_blobs_and_lose_no_acknowledged_put() =>
        KillRepeatedly("put-blobs", Kills, maxAcksBeforeKill: 25);

    [Fact]
    public Task Killed_batched_stream_writers_leave_only_whole_blobs_and_lose_no_acknowledged_stream() =>
        KillRepeatedly("write-streams", Kills / 2, maxAcksBeforeKill: 4);

    /// <summary>
    /// Starts the writer, reads a random number of acknowledgements (each a line of chunk ids whose write
    /// returned), kills it at a random moment in the next write, and checks the store; over and over.
    /// </summary>
    private async Task KillRepeatedly(string mode, int kills, int maxAcksBeforeKill)
    {
        var acknowledged = new HashSet<ChunkId>();
        int totalSeen = 0;
        for (int round = 0; round < kills; round++)
        {
            using (ChildProcess child = ChildProcess.StartTestHost(mode, _dir.Path))
            {
                Assert.Equal("ready", await child.ReadLineAsync(s_deadline));
                int killAfter = Random.Shared.Next(0, maxAcksBeforeKill);
                for (int i = 0; i < killAfter; i++)
                {
                    string? line = await child.ReadLineAsync(s_deadline);
                    Assert.NotNull(line);
                    foreach (string word in line.Split(' '))
                    {
                        Assert.True(ChunkId.TryParse(word, out ChunkId id), $"child printed '{line}'");
                        acknowledged.Add(id);
                    }
                }

                // Vary where inside the next put the kill lands (a busy pause, not a synchronisation wait).
                Thread.SpinWait(Random.Shared.Next(0, 2_000_000));
                child.Kill();
                await child.WaitForExitAsync(s_deadline);
            }

            totalSeen = VerifyStore(acknowledged);
        }

        Assert.True(acknowledged.Count > kills, $"only {acknowledged.Count} blobs were acknowledged in {kills} rounds");
        Assert.True(totalSeen >= acknowledged.Count);
    }

    /// <summary>Reopens the store and checks every blob in it; returns how many there are.</summary>
    private int VerifyStore(HashSet<ChunkId> acknowledged)
    {
        byte[] secret = KeyFile.Read(_dir.Combine("volume.key"));
        using VolumeKeys keys = VolumeKeys.Derive(secret);
        using var cipher = new BlobCipher(keys);
        var store = new BlobStore(_dir.Combine("blobs"));
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("blobs", "tmp")));

        var present = store.Enumerate().ToHashSet();
        foreach (ChunkId id in acknowledged)
        {
            Assert.True(present.Contains(id), $"acknowledged blob {id} is missing after a crash");
        }

        byte[] plaintext = new byte[1024 * 1024];
        foreach (ChunkId id in present)
        {
            // Whole and authentic: a partial or torn blob would fail the chunk-id check.
            cipher.Open(store.ReadAll(id), id, plaintext);
        }

        return present.Count;
    }

    public void Dispose() => _dir.Dispose();
}
