using System.Runtime.InteropServices;

namespace NexNet.Fuse.Native;

/// <summary>
/// Loads libfuse3 by its runtime name (<c>libfuse3.so.3</c>: plain "fuse3" resolves only with the -dev
/// package) and checks its version, because the struct layouts in this binding are those of 3.10–3.16;
/// 3.17 moved fields of fuse_file_info and fuse_config. Refuses anything else with a message saying why.
/// </summary>
internal static class LibFuse
{
    public const string LibraryName = "libfuse3.so.3";
    public const int MinimumVersion = 310;
    public const int MaximumVersion = 316;

    private static readonly Lazy<nint> s_handle = new(Load);

    /// <summary>The loaded library's handle; throws <see cref="FuseUnavailableException"/> with how to fix it if libfuse3 is missing.</summary>
    public static nint Handle => s_handle.Value;

    /// <summary>fuse_version(): 314 for 3.14.</summary>
    public static unsafe int Version()
    {
        var version = (delegate* unmanaged<int>)NativeLibrary.GetExport(Handle, "fuse_version");
        return version();
    }

    /// <summary>Throws unless the installed libfuse3 has the layouts this binding was written and tested for.</summary>
    public static void EnsureSupported()
    {
        int version = Version();
        if (version is < MinimumVersion or > MaximumVersion)
        {
            throw new FuseUnavailableException(
                $"libfuse {version / 100}.{version % 100} is installed; this build supports 3.{MinimumVersion % 100} to 3.{MaximumVersion % 100} (Debian 12 ships 3.14)");
        }
    }

    private static nint Load()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new FuseUnavailableException("the FUSE mount is for Linux; on Windows and macOS use the WebDAV front end");
        }

        if (NativeLibrary.TryLoad(LibraryName, out nint handle))
        {
            return handle;
        }

        throw new FuseUnavailableException($"{LibraryName} is not installed: run `sudo apt-get install fuse3` (./mount.sh does it for you)");
    }
}
