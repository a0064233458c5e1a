using System.Runtime.InteropServices;

namespace NexNet.Fuse.Native;

/// <summary>The libc calls the mount needs beyond libfuse: who we are.</summary>
internal static unsafe partial class MountOwner
{
    [LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint UserId();

    [LibraryImport("libc", EntryPoint = "getgid")]
    public static partial uint GroupId();
}
