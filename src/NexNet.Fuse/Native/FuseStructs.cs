using System.Runtime.InteropServices;

namespace NexNet.Fuse.Native;

// libfuse 3.14 structures as x86_64 and arm64 lay them out (identical but for struct stat). Only the
// members the binding uses are declared, at explicit offsets; every size and offset here is checked
// against the installed headers by NativeLayoutTests (a C program compiled in the test).

/// <summary><c>struct fuse_file_info</c>: 40 bytes; the flag bits live in one word at offset 4.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct FuseFileInfo
{
    public const uint DirectIo = 0x2;
    public const uint KeepCache = 0x4;
    public const uint NonSeekable = 0x10;
    public const uint NoFlush = 0x80;

    [FieldOffset(0)] public int Flags;
    [FieldOffset(4)] public uint Bits;
    [FieldOffset(16)] public ulong Fh;
    [FieldOffset(24)] public ulong LockOwner;
    [FieldOffset(32)] public uint PollEvents;
}

/// <summary><c>struct fuse_config</c>: 128 bytes, set in the init callback.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct FuseConfig
{
    [FieldOffset(24)] public double EntryTimeout;
    [FieldOffset(32)] public double NegativeTimeout;
    [FieldOffset(40)] public double AttrTimeout;
    [FieldOffset(60)] public int HardRemove;
    [FieldOffset(64)] public int UseIno;
    [FieldOffset(72)] public int DirectIo;
    [FieldOffset(76)] public int KernelCache;
    [FieldOffset(80)] public int AutoCache;
    [FieldOffset(104)] public int NullpathOk;
}

/// <summary><c>struct fuse_conn_info</c>: 128 bytes; max_write and the capability masks.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct FuseConnInfo
{
    [FieldOffset(8)] public uint MaxWrite;
    [FieldOffset(16)] public uint MaxReadahead;
    [FieldOffset(20)] public uint Capable;
    [FieldOffset(24)] public uint Want;
}

/// <summary><c>struct fuse_context</c>: who is calling (valid only inside a callback, per thread).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct FuseContext
{
    [FieldOffset(0)] public nint Fuse;
    [FieldOffset(8)] public uint Uid;
    [FieldOffset(12)] public uint Gid;
    [FieldOffset(16)] public int Pid;
    [FieldOffset(24)] public nint PrivateData;
    [FieldOffset(32)] public uint Umask;
}

/// <summary><c>struct fuse_args</c>: argv for fuse_new (argv[0] is required).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseArgs
{
    [FieldOffset(0)] public int Argc;
    [FieldOffset(8)] public nint Argv;
    [FieldOffset(16)] public int Allocated;
}

[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary><c>struct stat</c> on x86_64 (144 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 144)]
internal struct StatX64
{
    [FieldOffset(0)] public ulong Dev;
    [FieldOffset(8)] public ulong Ino;
    [FieldOffset(16)] public ulong Nlink;
    [FieldOffset(24)] public uint Mode;
    [FieldOffset(28)] public uint Uid;
    [FieldOffset(32)] public uint Gid;
    [FieldOffset(40)] public ulong Rdev;
    [FieldOffset(48)] public long Size;
    [FieldOffset(56)] public long Blksize;
    [FieldOffset(64)] public long Blocks;
    [FieldOffset(72)] public Timespec Atime;
    [FieldOffset(88)] public Timespec Mtime;
    [FieldOffset(104)] public Timespec Ctime;
}

/// <summary><c>struct stat</c> on arm64 (128 bytes): mode before a 32-bit nlink, a 32-bit blksize.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct StatArm64
{
    [FieldOffset(0)] public ulong Dev;
    [FieldOffset(8)] public ulong Ino;
    [FieldOffset(16)] public uint Mode;
    [FieldOffset(20)] public uint Nlink;
    [FieldOffset(24)] public uint Uid;
    [FieldOffset(28)] public uint Gid;
    [FieldOffset(32)] public ulong Rdev;
    [FieldOffset(48)] public long Size;
    [FieldOffset(56)] public int Blksize;
    [FieldOffset(64)] public long Blocks;
    [FieldOffset(72)] public Timespec Atime;
    [FieldOffset(88)] public Timespec Mtime;
    [FieldOffset(104)] public Timespec Ctime;
}

/// <summary><c>struct statvfs</c>: 112 bytes, eleven 64-bit fields then spare.</summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
internal struct StatVfs
{
    [FieldOffset(0)] public ulong BlockSize;
    [FieldOffset(8)] public ulong FragmentSize;
    [FieldOffset(16)] public ulong Blocks;
    [FieldOffset(24)] public ulong BlocksFree;
    [FieldOffset(32)] public ulong BlocksAvailable;
    [FieldOffset(40)] public ulong Files;
    [FieldOffset(48)] public ulong FilesFree;
    [FieldOffset(56)] public ulong FilesAvailable;
    [FieldOffset(80)] public ulong NameMax;
}
