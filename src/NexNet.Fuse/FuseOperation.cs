using Microsoft.Extensions.Logging;
using NexNet.Crypto;
using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>How every file system operation fails: Volume errors become their errno, a full disk ENOSPC, a damaged or unavailable chunk EIO with one log line.</summary>
internal static class FuseOperation
{
    public static int Run(ILogger log, Func<int> operation, string name, string path)
    {
        try
        {
            return operation();
        }
        catch (VolumeException e)
        {
            if (e.Error is VolumeError.Unavailable)
            {
                Log.OperationFailed(log, name, path, e.Message);
            }

            return -VolumeFileSystem.ErrnoOf(e.Error);
        }
        catch (IntegrityException e)
        {
            Log.OperationFailed(log, name, path, e.Message);
            return -Errno.EIO;
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            Log.OperationFailed(log, name, path, "the disk is full");
            return -Errno.ENOSPC;
        }
        catch (IOException e)
        {
            Log.OperationFailed(log, name, path, e.Message);
            return -Errno.EIO;
        }
    }

    /// <summary>readlink over whatever <paramref name="find"/> finds at the path (null: nothing there).</summary>
    public static int ReadLink(ILogger log, string path, Func<EntryInfo?> find, out string target)
    {
        string found = "";
        int result = Run(log, () =>
        {
            if (find() is not { } entry)
            {
                return -Errno.ENOENT;
            }

            if (entry.Kind != EntryKind.Symlink)
            {
                return -Errno.EINVAL;
            }

            found = entry.Target ?? "";
            return 0;
        }, "readlink", path);
        target = found;
        return result;
    }
}
