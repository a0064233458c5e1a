using NexNet.Cli;

namespace NexNet.UnitTests.Cli;

/// <summary>What the command line accepts, and the one line it answers a mistake with (no node is started: parsing only).</summary>
public sealed class CommandLineTests
{
    private static string? Check(params string[] args) => CommandLine.UsageError(CommandLine.Build(), args);

    [Theory]
    [InlineData("init")]
    [InlineData("init", "--data", "/tmp/d", "--listen", "127.0.0.1:0")]
    [InlineData("put", "report.pdf")]
    [InlineData("put", "report.pdf", "/docs/", "--data", "/tmp/d")]
    [InlineData("get", "/docs/report.pdf", "-")]
    [InlineData("ls", "-l", "/docs")]
    [InlineData("rm", "-r", "/docs")]
    [InlineData("mount", "/mnt/nexnet", "--demo")]
    [InlineData("invite", "--storage-only", "--address", "host:7000")]
    [InlineData("status", "--watch")]
    [InlineData("demo", "--ports", "0,0,0")]
    public void Well_formed_commands_are_accepted(params string[] args) => Assert.Null(Check(args));

    [Fact]
    public void No_command_says_what_to_do()
    {
        string error = Check()!;
        Assert.StartsWith("nexnet: say what to do", error, StringComparison.Ordinal);
        Assert.Contains("nexnet init", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_argument_names_the_commands_help()
    {
        string error = Check("mount")!;
        Assert.StartsWith("nexnet: ", error, StringComparison.Ordinal);
        Assert.EndsWith("(see `nexnet mount --help`)", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error); // one line
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("put")]
    [InlineData("status", "--colour")]
    [InlineData("--data")]
    [InlineData("rm", "/a", "/b")]
    public void Mistakes_get_one_line_that_points_to_help(params string[] args)
    {
        string error = Check(args)!;
        Assert.StartsWith("nexnet: ", error, StringComparison.Ordinal);
        Assert.Contains("--help`)", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }
}
