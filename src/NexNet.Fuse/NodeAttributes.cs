namespace NexNet.Fuse;

/// <summary>What getattr reports for one path: the parts of <c>struct stat</c> a file system decides.</summary>
public readonly record struct NodeAttributes(uint Mode, long Size, long Nlink, DateTimeOffset Modified, uint Uid = 0, uint Gid = 0)
{
    public const uint Directory = 0x4000; // S_IFDIR
    public const uint RegularFile = 0x8000; // S_IFREG
    public const uint Symlink = 0xA000; // S_IFLNK
}
