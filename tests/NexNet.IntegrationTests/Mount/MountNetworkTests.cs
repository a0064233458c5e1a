using System.Diagnostics;

namespace NexNet.IntegrationTests.Mount;

/// <summary>Two nodes, each mounted by its own process: what one mount writes the other lists and reads, and later changes show without remounting.</summary>
[Collection(MountTests.Name)]
public sealed class MountNetworkTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task A_file_copied_into_mount_A_is_readable_on_mount_B_within_2_s_and_changes_follow()
    {
        string dataA = _dir.Combine("data-a"), dataB = _dir.Combine("data-b");
        await using NexnetMountProcess a = await NexnetMountProcess.StartAsync(dataA, _dir.Combine("a"));
        Directory.CreateDirectory(dataB);
        foreach (string key in new[] { "network.key", "volume.key" })
        {
            File.Copy(Path.Combine(dataA, key), Path.Combine(dataB, key));
        }

        await using NexnetMountProcess b = await NexnetMountProcess.StartAsync(dataB, _dir.Combine("b"), "--join", a.Address);
        string source = _dir.Combine("photo.bin");
        await Shell.RunAsync($"head -c 3000000 /dev/urandom > '{source}'");

        // Wait for the nodes to connect (an empty volume shows no sign of it otherwise): a first file.
        await File.WriteAllTextAsync(a.PathOf("hello.txt"), "hello", TestContext.Current.CancellationToken);
        await Eventually.WaitAsync(() => File.Exists(b.PathOf("hello.txt")), TimeSpan.FromSeconds(30), "the first file reached B");

        await Shell.RunAsync($"cp '{source}' '{a.PathOf("photo.bin")}'");
        var clock = Stopwatch.StartNew();
        await Eventually.WaitAsync(() => Directory.GetFiles(b.Mountpoint).Any(f => f.EndsWith("photo.bin", StringComparison.Ordinal)), TimeSpan.FromSeconds(2), "photo.bin listed on B");
        await Shell.RunAsync($"cmp '{source}' '{b.PathOf("photo.bin")}'");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"listed and read on B after {clock.Elapsed.TotalSeconds:F1} s");

        // A later change on A, with B having read (and cached) the old contents.
        await File.WriteAllTextAsync(a.PathOf("hello.txt"), "hello, changed on A", TestContext.Current.CancellationToken);
        await Eventually.WaitAsync(() => File.ReadAllText(b.PathOf("hello.txt")) == "hello, changed on A", TimeSpan.FromSeconds(5), "B read the changed contents");
        await Shell.RunAsync($"echo appended >> '{a.PathOf("photo.bin")}'");
        await Eventually.WaitAsync(() => new FileInfo(b.PathOf("photo.bin")).Length == 3000009, TimeSpan.FromSeconds(5), "B saw the appended size");
        Assert.Equal("appended\n", await Shell.RunAsync($"tail -c 9 '{b.PathOf("photo.bin")}'") + "\n");
    }

    public void Dispose() => _dir.Dispose();
}
