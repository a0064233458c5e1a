using System.CommandLine;

namespace NexNet.Cli;

/// <summary>The options every command takes (--data, --listen, --join, --verbose, --json).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Data { get; } = new("--data")
    {
        Description = "The data directory (else $NEXNET_DATA, else ~/.local/share/nexnet)",
        Recursive = true,
    };

    public Option<string?> Listen { get; } = new("--listen")
    {
        Description = "Where the node accepts peers, HOST:PORT (port 0 picks a free one); overrides config.json",
        Recursive = true,
    };

    public Option<string[]> Join { get; } = new("--join")
    {
        Description = "Another node to dial, HOST:PORT (repeatable); overrides config.json",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Debug log lines",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Data as JSON, for scripts",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(Data);
        root.Options.Add(Listen);
        root.Options.Add(Join);
        root.Options.Add(Verbose);
        root.Options.Add(Json);
    }

    public string DataDirectoryOf(ParseResult result) => DataDirectory.Resolve(result.GetValue(Data));

    public IReadOnlyList<string> JoinOf(ParseResult result) => result.GetValue(Join) ?? [];
}
