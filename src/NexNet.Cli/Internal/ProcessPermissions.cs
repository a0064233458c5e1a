using System.Runtime.InteropServices;

namespace NexNet.Cli.Internal;

/// <summary>The libc calls the command needs: its file-creation mask and who it runs as.</summary>
internal static partial class ProcessPermissions
{
    /// <summary>Sets the process's file-creation mask (every thread's) and returns the old one.</summary>
    [LibraryImport("libc", EntryPoint = "umask")]
    public static partial uint SetUmask(uint mask);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint EffectiveUserId();
}
