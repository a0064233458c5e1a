using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace NexNet.Fuse.Native;

/// <summary>
/// The native entry points libfuse calls: static, [UnmanagedCallersOnly], their addresses stored in a
/// zeroed fuse_operations in native memory, so there are no delegates to keep alive. Each finds the
/// managed file system through fuse_get_context()->private_data and never lets an exception cross
/// into native code (that would abort the process and leave a stale mount): it answers -EIO instead.
/// </summary>
internal static unsafe class FuseCallbacks
{
    private static readonly bool s_arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>Reports any exception that reached a callback (the host logs it); set by the host.</summary>
    internal static Action<string, Exception>? OnUnexpected { get; set; }

    public static void Fill(FuseOperations* operations)
    {
        operations->Init = (nint)(delegate* unmanaged<FuseConnInfo*, FuseConfig*, nint>)&Init;
        operations->Getattr = (nint)(delegate* unmanaged<byte*, void*, FuseFileInfo*, int>)&GetAttr;
        operations->Readdir = (nint)(delegate* unmanaged<byte*, void*, nint, long, FuseFileInfo*, int, int>)&ReadDir;
        operations->Open = (nint)(delegate* unmanaged<byte*, FuseFileInfo*, int>)&Open;
        operations->Read = (nint)(delegate* unmanaged<byte*, byte*, nuint, long, FuseFileInfo*, int>)&Read;
    }

    private static IFuseFileSystem FileSystem => (IFuseFileSystem)GCHandle.FromIntPtr(FuseApi.Context()->PrivateData).Target!;

    private static string PathOf(byte* path) => Marshal.PtrToStringUTF8((nint)path) ?? "/";

    [UnmanagedCallersOnly]
    private static nint Init(FuseConnInfo* connection, FuseConfig* config)
    {
        config->UseIno = 0;
        config->HardRemove = 0; // an unlinked file stays usable through its open handles
        config->NullpathOk = 0;
        config->EntryTimeout = 1.0;
        config->AttrTimeout = 1.0;
        connection->MaxWrite = 1024 * 1024;
        return FuseApi.Context()->PrivateData; // becomes private_data for every later callback
    }

    [UnmanagedCallersOnly]
    private static int GetAttr(byte* path, void* stat, FuseFileInfo* fileInfo)
    {
        try
        {
            int result = FileSystem.GetAttributes(PathOf(path), out NodeAttributes attributes);
            if (result == 0)
            {
                WriteStat(stat, attributes);
            }

            return result;
        }
        catch (Exception e)
        {
            return Unexpected(nameof(GetAttr), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int ReadDir(byte* path, void* buffer, nint filler, long offset, FuseFileInfo* fileInfo, int flags)
    {
        try
        {
            var names = new List<string> { ".", ".." };
            int result = FileSystem.ReadDirectory(PathOf(path), names);
            if (result != 0)
            {
                return result;
            }

            var fill = (delegate* unmanaged<void*, byte*, void*, long, int, int>)filler;
            Span<byte> name = stackalloc byte[1024];
            foreach (string entry in names)
            {
                int n = Encoding.UTF8.GetBytes(entry, name[..^1]);
                name[n] = 0;
                fixed (byte* p = name)
                {
                    if (fill(buffer, p, null, 0, 0) != 0)
                    {
                        break; // the kernel's buffer is full
                    }
                }
            }

            return 0;
        }
        catch (Exception e)
        {
            return Unexpected(nameof(ReadDir), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int Open(byte* path, FuseFileInfo* fileInfo)
    {
        try
        {
            return FileSystem.Open(PathOf(path), fileInfo->Flags);
        }
        catch (Exception e)
        {
            return Unexpected(nameof(Open), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int Read(byte* path, byte* buffer, nuint size, long offset, FuseFileInfo* fileInfo)
    {
        try
        {
            return FileSystem.Read(PathOf(path), new Span<byte>(buffer, (int)Math.Min(size, int.MaxValue)), offset);
        }
        catch (Exception e)
        {
            return Unexpected(nameof(Read), e);
        }
    }

    private static int Unexpected(string operation, Exception e)
    {
        try
        {
            OnUnexpected?.Invoke(operation, e);
        }
        catch (Exception)
        {
            // Reporting must not fail the callback either.
        }

        return -Errno.EIO;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteStat(void* stat, in NodeAttributes a)
    {
        var time = new Timespec { Seconds = a.Modified.ToUnixTimeSeconds(), Nanoseconds = a.Modified.Millisecond * 1_000_000L };
        long blocks = (a.Size + 511) / 512;
        if (s_arm64)
        {
            var s = (StatArm64*)stat;
            *s = default;
            s->Mode = a.Mode;
            s->Nlink = (uint)a.Nlink;
            s->Uid = a.Uid;
            s->Gid = a.Gid;
            s->Size = a.Size;
            s->Blksize = 4096;
            s->Blocks = blocks;
            s->Atime = s->Mtime = s->Ctime = time;
        }
        else
        {
            var s = (StatX64*)stat;
            *s = default;
            s->Mode = a.Mode;
            s->Nlink = (ulong)a.Nlink;
            s->Uid = a.Uid;
            s->Gid = a.Gid;
            s->Size = a.Size;
            s->Blksize = 4096;
            s->Blocks = blocks;
            s->Atime = s->Mtime = s->Ctime = time;
        }
    }
}
