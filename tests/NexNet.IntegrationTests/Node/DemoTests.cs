using NexNet.Cli;

namespace NexNet.IntegrationTests.Node;

/// <summary>The demo command runs its three nodes through store, read-through and delete, and reports each step.</summary>
[Collection(NodeProcessTests.Name)]
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_stores_reads_through_another_node_and_deletes_everywhere()
    {
        using var output = new StringWriter();
        LogCapture[] logs = [new("node 1"), new("node 2"), new("node 3")];
        int exit = await Demo.RunAsync(output, [0, 0, 0], TestContext.Current.CancellationToken, i => logs[i]);
        string text = output.ToString();
        Assert.True(exit == 0, text + "\n" + string.Join("\n", logs.Select(l => l.Dump())));
        Assert.Contains("all three nodes are connected", text, StringComparison.Ordinal);
        Assert.Contains("every chunk has 3 copies", text, StringComparison.Ordinal);
        Assert.Contains("byte for byte identical", text, StringComparison.Ordinal);
        Assert.Matches(@"collection removed \d+ unreferenced chunk copies: 127\.0\.0\.1:\d+ holds 0, 127\.0\.0\.1:\d+ holds 0, 127\.0\.0\.1:\d+ holds 0", text);
        Assert.EndsWith("demo: done", text.TrimEnd(), StringComparison.Ordinal);
    }
}
