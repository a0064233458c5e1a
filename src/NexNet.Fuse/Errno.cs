namespace NexNet.Fuse;

/// <summary>The errno values FUSE operations answer with (Linux numbering, the same on x86_64 and arm64).</summary>
public static class Errno
{
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EPERM = 1;
    public const int EXDEV = 18;
    public const int EFBIG = 27;
    public const int EROFS = 30;
    public const int ENOTSUP = 95;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
}
