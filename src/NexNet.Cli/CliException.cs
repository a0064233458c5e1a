namespace NexNet.Cli;

/// <summary>A failure the command line reports as one sentence (what happened, what to do) with its exit code.</summary>
internal sealed class CliException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
