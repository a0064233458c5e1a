using NexNet.Cli;
using NexNet.Node;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Cli;

/// <summary>config.json as the node reads it: unknown keys and bad values refused with the key's name, flags on top of the file.</summary>
public sealed class NodeConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void An_unknown_key_is_refused_naming_it_and_the_file()
    {
        File.WriteAllText(_dir.Combine(NodeConfig.FileName), """{ "listen": "127.0.0.1:0", "replicationFactr": 2 }""");
        CliException e = Assert.Throws<CliException>(() => NodeConfig.Load(_dir.Path));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains("replicationFactr", e.Message, StringComparison.Ordinal);
        Assert.Contains(_dir.Combine(NodeConfig.FileName), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "listen": "my-laptop:4747" }""", "\"listen\"")]
    [InlineData("""{ "webdavHosts": ["a b"] }""", "\"webdavHosts\"")]
    [InlineData("""{ "replicationFactor": "three" }""", "replicationFactor")]
    [InlineData("""{ "listen": """, "is not valid")]
    public void A_bad_value_is_refused_naming_its_key(string json, string named)
    {
        File.WriteAllText(_dir.Combine(NodeConfig.FileName), json);
        CliException e = Assert.Throws<CliException>(() => NodeConfig.Load(_dir.Path));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("maxClockSkewMinutes", -1)]
    [InlineData("historyDays", -0.5)]
    [InlineData("collectionIntervalSeconds", 0)]
    public void A_negative_or_zero_timer_is_refused_when_the_node_starts(string key, double value)
    {
        File.WriteAllText(_dir.Combine(NodeConfig.FileName), $$"""{ "{{key}}": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}} }""");
        CliException e = Assert.Throws<CliException>(() => NodeConfig.Load(_dir.Path).ToNodeOptions(null, []));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_override_the_file_for_one_run_and_the_file_fills_in_the_rest()
    {
        new NodeConfig { Listen = "0.0.0.0:5000", Join = ["10.0.0.1:4747"], ReplicationFactor = 2, SyncIntervalSeconds = 1.5, StorageQuotaGiB = 0.5 }.Save(_dir.Path);
        NodeConfig config = NodeConfig.Load(_dir.Path);

        NodeOptions fromFile = config.ToNodeOptions(null, []);
        Assert.Equal("0.0.0.0:5000", fromFile.Listen!.ToString());
        Assert.Equal(["10.0.0.1:4747"], fromFile.Bootstrap);
        Assert.Equal(2, fromFile.ReplicationFactor);
        Assert.Equal(TimeSpan.FromSeconds(1.5), fromFile.SyncInterval);
        Assert.Equal(1L << 29, fromFile.StorageQuota);

        NodeOptions flagged = config.ToNodeOptions("127.0.0.1:6000", ["10.0.0.2:4747", "10.0.0.3:4747"]);
        Assert.Equal("127.0.0.1:6000", flagged.Listen!.ToString());
        Assert.Equal(["10.0.0.2:4747", "10.0.0.3:4747"], flagged.Bootstrap);
        Assert.Equal(2, flagged.ReplicationFactor); // what no flag names still comes from the file
    }

    [Fact]
    public void No_file_means_the_documented_defaults()
    {
        NodeOptions options = NodeConfig.Load(_dir.Path).ToNodeOptions(null, []);
        Assert.Equal($"0.0.0.0:{NodeConfig.DefaultPort}", options.Listen!.ToString());
        Assert.Equal(3, options.ReplicationFactor);
        Assert.Equal(TimeSpan.FromMinutes(10), options.MaxClockSkew);
        Assert.Equal(TimeSpan.FromDays(30), options.HistoryRetention);
        Assert.Equal(0, options.HistoryMaxBytes);
        Assert.Empty(options.Bootstrap);
    }

    public void Dispose() => _dir.Dispose();
}
