using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NexNet.Storage.Internal;

/// <summary>
/// Writes that bypass the page cache (O_DIRECT): the data goes from our buffer to the disk with no
/// copy and no later writeback, so a batch's fsync has only metadata left to do. File systems that do
/// not support it (tmpfs, some FUSE and network file systems) get the buffered path instead.
/// </summary>
internal static partial class DirectIo
{
    /// <summary>Buffer address, length and file offset alignment: a page covers every logical block size in use.</summary>
    public const int Alignment = 4096;

    private const int OWrOnly = 0x1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int OCloExec = 0x80000;
    private const int EInval = 22;

    // O_DIRECT differs between architectures (0x4000 on x86/x86_64, 0x10000 on arm/arm64).
    private static int ODirect => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    private const int FGetFl = 3;
    private const int FSetFl = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    public static int Padded(int length) => (length + Alignment - 1) & ~(Alignment - 1);

    /// <summary>
    /// Creates <paramref name="path"/> (mode 0600, must not exist) and writes <paramref name="length"/>
    /// bytes from <paramref name="buffer"/>, which starts aligned: the block-aligned prefix directly, then
    /// the short tail (36 bytes for a full 1 MiB chunk) through the page cache on the same descriptor,
    /// so the file is never padded and never truncated (a truncate costs more than the tail write).
    /// Returns false, having written nothing, when the file system does not take direct I/O, and then
    /// sets <paramref name="unsupported"/> so later calls for the same file system do not try again.
    /// </summary>
    public static bool TryWriteNewFile(string path, Span<byte> buffer, int length, ref bool unsupported)
    {
        if (unsupported || !OperatingSystem.IsLinux())
        {
            return false;
        }

        int aligned = length & ~(Alignment - 1);
        int fd = Open(path, OWrOnly | OCreat | OExcl | OCloExec | ODirect, 0x180 /* 0600 */);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EInval)
            {
                unsupported = true;
                return false;
            }

            throw new IOException($"cannot create {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (aligned > 0)
            {
                RandomAccess.Write(handle, buffer[..aligned], 0);
            }

            if (aligned < length)
            {
                int flags = Fcntl(fd, FGetFl, 0);
                if (flags < 0 || Fcntl(fd, FSetFl, flags & ~ODirect) < 0)
                {
                    throw new IOException($"cannot leave direct I/O on {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }

                RandomAccess.Write(handle, buffer[aligned..length], aligned);
            }

            return true;
        }
        catch (IOException) when (Marshal.GetLastPInvokeError() == EInval)
        {
            // Some file systems accept O_DIRECT at open and refuse the write: fall back for good.
            unsupported = true;
            handle.Dispose();
            File.Delete(path);
            return false;
        }
    }
}
