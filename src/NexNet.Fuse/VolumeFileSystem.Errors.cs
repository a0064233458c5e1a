using System.Text;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

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

    /// <summary>
    /// Runs one operation: Volume errors become their errno, a full disk ENOSPC, a damaged or unavailable
    /// chunk EIO with one log line.
    /// </summary>
    private int Run(Func<int> operation, string name, string path)
    {
        try
        {
            return operation();
        }
        catch (VolumeException e)
        {
            if (e.Error is VolumeError.Unavailable)
            {
                Log.OperationFailed(_log, name, path, e.Message);
            }

            return -ErrnoOf(e.Error);
        }
        catch (IntegrityException e)
        {
            Log.OperationFailed(_log, name, path, e.Message);
            return -Errno.EIO;
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            Log.OperationFailed(_log, name, path, "the disk is full");
            return -Errno.ENOSPC;
        }
        catch (IOException e)
        {
            Log.OperationFailed(_log, name, path, e.Message);
            return -Errno.EIO;
        }
    }

    private static int ErrnoOf(VolumeError error) => error switch
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
