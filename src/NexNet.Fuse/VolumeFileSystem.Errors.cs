using System.Text;
using NexNet.Node;

namespace NexNet.Fuse;

/// <summary>How operations fail: Volume errors become their errno, a full disk ENOSPC, a damaged or unavailable chunk EIO with one log line.</summary>
public sealed partial class VolumeFileSystem
{
    private static bool TooLong(string path)
    {
        foreach (string part in path.Split('/'))
        {
            if (Encoding.UTF8.GetByteCount(part) > MaxNameBytes)
            {
                return true;
            }
        }

        return false;
    }

    private int Run(Func<int> operation, string name, string path) => FuseOperation.Run(_log, operation, name, path);

    internal static int ErrnoOf(VolumeError error) => error switch
    {
        VolumeError.NotFound => Errno.ENOENT,
        VolumeError.AlreadyExists => Errno.EEXIST,
        VolumeError.NotADirectory => Errno.ENOTDIR,
        VolumeError.IsADirectory => Errno.EISDIR,
        VolumeError.NotEmpty => Errno.ENOTEMPTY,
        VolumeError.InvalidPath => Errno.EINVAL,
        VolumeError.NotAMember => Errno.EROFS,
        VolumeError.TooLarge => Errno.EFBIG,
        _ => Errno.EIO,
    };
}
