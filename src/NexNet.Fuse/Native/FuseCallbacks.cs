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

    private static readonly int s_statSize = s_arm64 ? sizeof(StatArm64) : sizeof(StatX64);

    /// <summary>Reports any exception that reached a callback (the host logs it); set by the host.</summary>
    internal static Action<string, Exception>? OnUnexpected { get; set; }

    public static void Fill(FuseOperations* operations)
    {
        operations->Init = (nint)(delegate* unmanaged<FuseConnInfo*, FuseConfig*, nint>)&Init;
        operations->Getattr = (nint)(delegate* unmanaged<byte*, void*, FuseFileInfo*, int>)&GetAttr;
        operations->Readdir = (nint)(delegate* unmanaged<byte*, void*, nint, long, FuseFileInfo*, int, int>)&ReadDir;
        operations->Open = (nint)(delegate* unmanaged<byte*, FuseFileInfo*, int>)&Open;
        operations->Read = (nint)(delegate* unmanaged<byte*, byte*, nuint, long, FuseFileInfo*, int>)&Read;
        operations->Create = (nint)(delegate* unmanaged<byte*, uint, FuseFileInfo*, int>)&Create;
        operations->Write = (nint)(delegate* unmanaged<byte*, byte*, nuint, long, FuseFileInfo*, int>)&Write;
        operations->Truncate = (nint)(delegate* unmanaged<byte*, long, FuseFileInfo*, int>)&Truncate;
        operations->Flush = (nint)(delegate* unmanaged<byte*, FuseFileInfo*, int>)&Flush;
        operations->Fsync = (nint)(delegate* unmanaged<byte*, int, FuseFileInfo*, int>)&Fsync;
        operations->Release = (nint)(delegate* unmanaged<byte*, FuseFileInfo*, int>)&Release;
        operations->Mkdir = (nint)(delegate* unmanaged<byte*, uint, int>)&MakeDirectory;
        operations->Rmdir = (nint)(delegate* unmanaged<byte*, int>)&RemoveDirectory;
        operations->Unlink = (nint)(delegate* unmanaged<byte*, int>)&Unlink;
        operations->Rename = (nint)(delegate* unmanaged<byte*, byte*, uint, int>)&Rename;
        operations->Chmod = (nint)(delegate* unmanaged<byte*, uint, FuseFileInfo*, int>)&ChangeMode;
        operations->Chown = (nint)(delegate* unmanaged<byte*, uint, uint, FuseFileInfo*, int>)&ChangeOwner;
        operations->Utimens = (nint)(delegate* unmanaged<byte*, Timespec*, FuseFileInfo*, int>)&SetTimes;
        operations->Symlink = (nint)(delegate* unmanaged<byte*, byte*, int>)&Symlink;
        operations->Readlink = (nint)(delegate* unmanaged<byte*, byte*, nuint, int>)&ReadLink;
        operations->Statfs = (nint)(delegate* unmanaged<byte*, StatVfs*, int>)&StatFs;
        operations->Fsyncdir = (nint)(delegate* unmanaged<byte*, int, FuseFileInfo*, int>)&SyncDirectory;
        operations->Access = (nint)(delegate* unmanaged<byte*, int, int>)&Access;
    }

    /// <summary>True on a thread running a FUSE callback (the loop's threads run nothing else).</summary>
    [field: ThreadStatic]
    internal static bool OnCallbackThread { get; set; } // tests set it on threads that stand in for the loop's

    private static IFuseFileSystem FileSystem
    {
        get
        {
            OnCallbackThread = true;
            return (IFuseFileSystem)GCHandle.FromIntPtr(FuseApi.Context()->PrivateData).Target!;
        }
    }

    /// <summary>The path libfuse passes; "" when it passes none (an operation on an open file's handle).</summary>
    private static string PathOf(byte* path) => path is null ? "" : Marshal.PtrToStringUTF8((nint)path) ?? "";

    private static ulong HandleOf(FuseFileInfo* fileInfo) => fileInfo is null ? 0 : fileInfo->Fh;

    [UnmanagedCallersOnly]
    private static nint Init(FuseConnInfo* connection, FuseConfig* config)
    {
        config->UseIno = 0;
        config->HardRemove = 0; // libfuse hides an unlinked open file under .fuse_hidden*, so it stays usable through its handles
        config->NullpathOk = 0;
        config->EntryTimeout = 1.0;
        config->AttrTimeout = 1.0;
        config->NegativeTimeout = 0;
        connection->MaxWrite = 1024 * 1024;
        connection->MaxReadahead = 1024 * 1024;
        return FuseApi.Context()->PrivateData; // becomes private_data for every later callback
    }

    [UnmanagedCallersOnly]
    private static int GetAttr(byte* path, void* stat, FuseFileInfo* fileInfo)
    {
        try
        {
            int result = FileSystem.GetAttributes(PathOf(path), HandleOf(fileInfo), out NodeAttributes attributes);
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
            var entries = new List<DirectoryEntry> { new(".", NodeAttributes.Directory), new("..", NodeAttributes.Directory) };
            int result = FileSystem.ReadDirectory(PathOf(path), entries);
            if (result != 0)
            {
                return result;
            }

            var fill = (delegate* unmanaged<void*, byte*, void*, long, int, int>)filler;
            Span<byte> name = stackalloc byte[1024];
            byte* stat = stackalloc byte[s_statSize];
            foreach (DirectoryEntry entry in entries)
            {
                int n = Encoding.UTF8.GetBytes(entry.Name, name[..^1]);
                name[n] = 0;
                if (entry.Type != 0)
                {
                    WriteStat(stat, new NodeAttributes(entry.Type, 0, 1, DateTimeOffset.UnixEpoch)); // libfuse takes d_type from st_mode
                }

                fixed (byte* p = name)
                {
                    if (fill(buffer, p, entry.Type != 0 ? stat : null, 0, 0) != 0)
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
            int result = FileSystem.Open(PathOf(path), fileInfo->Flags, out ulong handle, out bool keepCache);
            fileInfo->Fh = handle;
            if (keepCache)
            {
                fileInfo->Bits |= FuseFileInfo.KeepCache;
            }

            return result;
        }
        catch (Exception e)
        {
            return Unexpected(nameof(Open), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int Create(byte* path, uint mode, FuseFileInfo* fileInfo)
    {
        try
        {
            int result = FileSystem.Create(PathOf(path), mode, fileInfo->Flags, out ulong handle);
            fileInfo->Fh = handle;
            return result;
        }
        catch (Exception e)
        {
            return Unexpected(nameof(Create), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int Read(byte* path, byte* buffer, nuint size, long offset, FuseFileInfo* fileInfo)
    {
        try
        {
            using var memory = new NativeMemoryManager(buffer, (int)Math.Min(size, int.MaxValue));
            return FileSystem.Read(PathOf(path), HandleOf(fileInfo), memory.Memory, offset);
        }
        catch (Exception e)
        {
            return Unexpected(nameof(Read), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int Write(byte* path, byte* data, nuint size, long offset, FuseFileInfo* fileInfo)
    {
        try
        {
            return FileSystem.Write(PathOf(path), HandleOf(fileInfo), new ReadOnlySpan<byte>(data, (int)Math.Min(size, int.MaxValue)), offset);
        }
        catch (Exception e)
        {
            return Unexpected(nameof(Write), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int Truncate(byte* path, long length, FuseFileInfo* fileInfo) =>
        Call(nameof(Truncate), path, fileInfo, (fs, p, h) => fs.Truncate(p, h, length));

    [UnmanagedCallersOnly]
    private static int Flush(byte* path, FuseFileInfo* fileInfo) => Call(nameof(Flush), path, fileInfo, (fs, p, h) => fs.Flush(p, h));

    [UnmanagedCallersOnly]
    private static int Fsync(byte* path, int dataOnly, FuseFileInfo* fileInfo) => Call(nameof(Fsync), path, fileInfo, (fs, p, h) => fs.Fsync(p, h));

    [UnmanagedCallersOnly]
    private static int Release(byte* path, FuseFileInfo* fileInfo) => Call(nameof(Release), path, fileInfo, (fs, p, h) => fs.Release(p, h));

    [UnmanagedCallersOnly]
    private static int MakeDirectory(byte* path, uint mode) => Call(nameof(MakeDirectory), path, null, (fs, p, _) => fs.MakeDirectory(p, mode));

    [UnmanagedCallersOnly]
    private static int RemoveDirectory(byte* path) => Call(nameof(RemoveDirectory), path, null, (fs, p, _) => fs.RemoveDirectory(p));

    [UnmanagedCallersOnly]
    private static int Unlink(byte* path) => Call(nameof(Unlink), path, null, (fs, p, _) => fs.Unlink(p));

    [UnmanagedCallersOnly]
    private static int Rename(byte* from, byte* to, uint flags)
    {
        string target = PathOf(to);
        return Call(nameof(Rename), from, null, (fs, p, _) => fs.Rename(p, target, (RenameMode)flags));
    }

    [UnmanagedCallersOnly]
    private static int ChangeMode(byte* path, uint mode, FuseFileInfo* fileInfo) =>
        Call(nameof(ChangeMode), path, fileInfo, (fs, p, h) => fs.ChangeMode(p, h, mode));

    /// <summary>Ownership is not kept (every entry belongs to the mounting user), so chown succeeds without effect, as on other single-owner file systems.</summary>
    [UnmanagedCallersOnly]
    private static int ChangeOwner(byte* path, uint uid, uint gid, FuseFileInfo* fileInfo) =>
        Call(nameof(ChangeOwner), path, fileInfo, (fs, p, h) => fs.GetAttributes(p, h, out NodeAttributes _));

    [UnmanagedCallersOnly]
    private static int SetTimes(byte* path, Timespec* times, FuseFileInfo* fileInfo)
    {
        const long Now = (1L << 30) - 1, Omit = (1L << 30) - 2; // UTIME_NOW, UTIME_OMIT
        Timespec modified = times is null ? new Timespec { Nanoseconds = Now } : times[1];
        if (modified.Nanoseconds == Omit)
        {
            return Call(nameof(SetTimes), path, fileInfo, (fs, p, h) => fs.GetAttributes(p, h, out NodeAttributes _));
        }

        DateTimeOffset? when = modified.Nanoseconds == Now
            ? null
            : DateTimeOffset.FromUnixTimeSeconds(modified.Seconds).AddTicks(modified.Nanoseconds / 100);
        return Call(nameof(SetTimes), path, fileInfo, (fs, p, h) => fs.SetModified(p, h, when));
    }

    [UnmanagedCallersOnly]
    private static int Symlink(byte* target, byte* path)
    {
        string link = PathOf(target);
        return Call(nameof(Symlink), path, null, (fs, p, _) => fs.CreateSymlink(p, link));
    }

    [UnmanagedCallersOnly]
    private static int ReadLink(byte* path, byte* buffer, nuint size)
    {
        try
        {
            int result = FileSystem.ReadLink(PathOf(path), out string target);
            if (result != 0)
            {
                return result;
            }

            var destination = new Span<byte>(buffer, (int)Math.Min(size, int.MaxValue));
            byte[] bytes = Encoding.UTF8.GetBytes(target);
            int n = Math.Min(bytes.Length, destination.Length - 1); // readlink truncates, and needs the terminator
            bytes.AsSpan(0, n).CopyTo(destination);
            destination[n] = 0;
            return 0;
        }
        catch (Exception e)
        {
            return Unexpected(nameof(ReadLink), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int StatFs(byte* path, StatVfs* stat)
    {
        try
        {
            int result = FileSystem.StatFs(out FileSystemStats stats);
            if (result == 0)
            {
                const ulong Block = 4096;
                *stat = default;
                stat->BlockSize = Block;
                stat->FragmentSize = Block;
                stat->Blocks = (ulong)Math.Max(0, stats.TotalBytes) / Block;
                stat->BlocksFree = (ulong)Math.Max(0, stats.FreeBytes) / Block;
                stat->BlocksAvailable = (ulong)Math.Max(0, stats.AvailableBytes) / Block;
                stat->Files = (ulong)Math.Max(0, stats.Files) + 1_000_000;
                stat->FilesFree = 1_000_000;
                stat->FilesAvailable = 1_000_000;
                stat->NameMax = 255;
            }

            return result;
        }
        catch (Exception e)
        {
            return Unexpected(nameof(StatFs), e);
        }
    }

    [UnmanagedCallersOnly]
    private static int SyncDirectory(byte* path, int dataOnly, FuseFileInfo* fileInfo) =>
        Call(nameof(SyncDirectory), path, null, (fs, p, _) => fs.SyncDirectory(p));

    /// <summary>Permission checks are the kernel's and ours are those of a single-owner tree: an existing path is accessible.</summary>
    [UnmanagedCallersOnly]
    private static int Access(byte* path, int mask) => Call(nameof(Access), path, null, (fs, p, _) => fs.GetAttributes(p, 0, out NodeAttributes _));

    private static int Call(string operation, byte* path, FuseFileInfo* fileInfo, Func<IFuseFileSystem, string, ulong, int> call)
    {
        try
        {
            return call(FileSystem, PathOf(path), HandleOf(fileInfo));
        }
        catch (Exception e)
        {
            return Unexpected(operation, e);
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
        var time = new Timespec { Seconds = a.Modified.ToUnixTimeSeconds(), Nanoseconds = a.Modified.UtcTicks % TimeSpan.TicksPerSecond * 100 };
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
