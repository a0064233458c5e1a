namespace NexNet.Storage;

/// <summary>The store's room on its disk: a reserve it never fills, so a full disk still lets commits and records through.</summary>
public sealed partial class BlobStore
{
    /// <summary>
    /// Bytes of the disk the store leaves free (0: none): a blob that would eat into them is refused with
    /// ENOSPC, so what must always succeed — commits, the commit journal, SQLite's WAL, records from
    /// peers — still has room when the chunks have filled the disk.
    /// </summary>
    public long Reserve { get; set; }

    /// <summary>Free bytes of the disk holding the store, for this user.</summary>
    public long FreeBytes() => new DriveInfo(Directory).AvailableFreeSpace;

    /// <summary>What chunks may still take: the free bytes less the reserve.</summary>
    public long AvailableBytes() => Math.Max(0, FreeBytes() - Reserve);

    /// <summary>Throws ENOSPC unless a blob of <paramref name="length"/> bytes leaves the reserve free.</summary>
    internal void EnsureRoom(long length)
    {
        if (Reserve <= 0)
        {
            return;
        }

        long free = FreeBytes();
        if (free - length < Reserve)
        {
            throw new IOException(
                $"no space left for chunks: {free:N0} bytes free on the disk of {Directory}, and {Reserve:N0} are kept for commits and records (free some space)", DiskFull.Enospc);
        }
    }
}
