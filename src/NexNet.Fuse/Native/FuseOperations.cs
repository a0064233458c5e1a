using System.Runtime.InteropServices;

namespace NexNet.Fuse.Native;

/// <summary>
/// <c>struct fuse_operations</c> of libfuse 3.14 (FUSE_USE_VERSION 31): 42 function pointers in header
/// order, 336 bytes. Filled with addresses of [UnmanagedCallersOnly] methods; zero means "not implemented".
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOperations
{
    public nint Getattr, Readlink, Mknod, Mkdir, Unlink, Rmdir, Symlink, Rename, Link, Chmod, Chown, Truncate;
    public nint Open, Read, Write, Statfs, Flush, Release, Fsync, Setxattr, Getxattr, Listxattr, Removexattr;
    public nint Opendir, Readdir, Releasedir, Fsyncdir, Init, Destroy, Access, Create, Lock, Utimens, Bmap;
    public nint Ioctl, Poll, WriteBuf, ReadBuf, Flock, Fallocate, CopyFileRange, Lseek;
}
