using System.Globalization;
using NexNet.Storage;

namespace NexNet.IntegrationTests.Storage;

/// <summary>Sealing and storing a 4 GiB stream stays within a fixed memory budget (peak RSS measured by the kernel).</summary>
[Collection(MeasuredTests.Name)]
public sealed class MemoryBoundTests : IDisposable
{
    private const long FourGiB = 4L * 1024 * 1024 * 1024;
    private const long LimitKib = 150 * 1024;
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Storing_4_GiB_keeps_peak_RSS_under_150_MiB()
    {
        using ChildProcess child = ChildProcess.StartTestHost("store-stream", _dir.Path, FourGiB.ToString(CultureInfo.InvariantCulture));
        string? summary = await child.ReadLineAsync(TimeSpan.FromMinutes(5));
        string? rss = await child.ReadLineAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await child.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("chunks=4096 length=4294967296", summary, StringComparison.Ordinal);
        Assert.NotNull(rss);
        long peakKib = long.Parse(rss["peak_rss_kib=".Length..], CultureInfo.InvariantCulture);
        Assert.True(peakKib < LimitKib, $"peak RSS {peakKib / 1024} MiB while storing 4 GiB (limit {LimitKib / 1024} MiB)");
        Assert.Equal(4096, new BlobStore(_dir.Combine("blobs")).Enumerate().Count());
    }

    public void Dispose() => _dir.Dispose();
}
