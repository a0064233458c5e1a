namespace NexNet.Cli;

/// <summary>
/// The exit codes of <c>nexnet</c>, taken from BSD's sysexits.h so that scripts can tell a mistake in
/// the command line from a missing file, a node that is not running, damaged data or a failing disk.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>EX_USAGE: the command line (or config.json) is wrong.</summary>
    public const int Usage = 64;

    /// <summary>EX_DATAERR: a damaged invite token, key file, record or chunk.</summary>
    public const int Integrity = 65;

    /// <summary>EX_NOINPUT: no such path in the volume, local file or data directory.</summary>
    public const int NotFound = 66;

    /// <summary>EX_UNAVAILABLE: no node running, a port in use, FUSE missing, a chunk no peer has.</summary>
    public const int Unavailable = 69;

    /// <summary>EX_SOFTWARE: a bug; the message says what failed.</summary>
    public const int Internal = 70;

    /// <summary>EX_IOERR: the disk is full or a read or write failed.</summary>
    public const int IO = 74;

    /// <summary>EX_NOPERM: the data directory or a local file may not be read or written by this user.</summary>
    public const int Permission = 77;
}
