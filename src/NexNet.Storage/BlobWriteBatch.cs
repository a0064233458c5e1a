using NexNet.Crypto;
using NexNet.Storage.Internal;

namespace NexNet.Storage;

/// <summary>
/// Puts that become durable together. <see cref="Add"/> may be called from many threads; it writes a
/// temp file (with direct I/O where it can, else buffered with early writeback). <see cref="Commit"/>
/// flushes every staged file, renames each into place and flushes each folder touched once, so N blobs
/// cost about two journal commits, not 2N. Disposing an uncommitted batch removes its temp files:
/// nothing of it becomes visible.
/// </summary>
public sealed class BlobWriteBatch : IDisposable
{
    /// <summary>
    /// From this many blobs on, a commit syncs the whole file system (two device flushes in all) instead
    /// of each file and folder (a flush each). Below it, a small put never waits for anyone else's data.
    /// </summary>
    internal const int SyncFileSystemThreshold = 32;

    private readonly BlobStore _store;
    private readonly Lock _lock = new();
    private readonly Dictionary<ChunkId, string> _staged = [];
    private readonly HashSet<ChunkId> _reserved = [];
    private readonly List<string> _createdFolders = [];
    private bool _disposed;

    internal BlobWriteBatch(BlobStore store) => _store = store;

    /// <summary>Blobs staged and not yet committed.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _staged.Count;
            }
        }
    }

    /// <summary>
    /// Reserves an id in this batch without asking the store (whose folders may be held by a flush): true
    /// if this batch had not reserved it. The blob is then staged with <see cref="AddAlignedIfNew"/>,
    /// which asks the store.
    /// </summary>
    internal bool TryReserve(ChunkId id)
    {
        lock (_lock)
        {
            return _reserved.Add(id);
        }
    }

    /// <summary>As <see cref="AddAligned"/> for an id reserved with <see cref="TryReserve"/>: false, and nothing written, when the store already holds it.</summary>
    internal bool AddAlignedIfNew(ChunkId id, Span<byte> alignedBuffer, int length) =>
        !_store.Has(id) && AddAligned(id, alignedBuffer, length);

    /// <summary>Stages a sealed blob. Returns false if the store or this batch already holds the id.</summary>
    public bool Add(ChunkId id, ReadOnlySpan<byte> sealedBlob)
    {
        if (!ShouldStage(id))
        {
            return false;
        }

        _store.EnsureRoom(sealedBlob.Length);
        string temp = NewTempPath(id);
        WriteBuffered(temp, sealedBlob);
        return Staged(id, temp);
    }

    /// <summary>
    /// Stages a sealed blob held at the start of a buffer aligned to <see cref="DirectIo.Alignment"/>:
    /// written with direct I/O where the file system allows it, buffered otherwise.
    /// </summary>
    /// <remarks>The caller has reserved <paramref name="id"/> with <see cref="TryReserve"/> and asked the store (<see cref="AddAlignedIfNew"/>), so the store is not asked again.</remarks>
    private bool AddAligned(ChunkId id, Span<byte> alignedBuffer, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_lock)
        {
            if (!_reserved.Contains(id))
            {
                throw new InvalidOperationException($"blob {id} was not reserved with TryReserve before AddAligned");
            }
        }

        _store.EnsureRoom(length);
        string temp = NewTempPath(id);
        if (!_store.TryWriteDirect(temp, alignedBuffer, length))
        {
            WriteBuffered(temp, alignedBuffer[..length]);
        }

        _store.NoteStaged(length);
        return Staged(id, temp);
    }

    /// <summary>
    /// Makes every staged blob durable and visible. Returns how many were staged: a blob of the same id
    /// stored meanwhile by another writer is kept, and the staged copy dropped.
    /// </summary>
    public int Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        KeyValuePair<ChunkId, string>[] staged;
        lock (_lock)
        {
            staged = [.. _staged];
            _staged.Clear();
        }

        if (staged.Length == 0)
        {
            return 0;
        }

        // 1. Data: flush the temp files. The data is already on its way (direct I/O, or writeback begun
        //    at Add), so this mostly waits for the journal commit and the device's cache flush.
        bool wholeFileSystem = staged.Length >= SyncFileSystemThreshold && DurableFiles.CanSyncFileSystem;
        if (wholeFileSystem)
        {
            DurableFiles.SyncFileSystem(_store.TempDirectory);
        }
        else
        {
            foreach ((_, string temp) in staged)
            {
                using var handle = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.FlushToDisk(handle);
            }
        }

        // 2. Names: rename into place, then flush each folder that changed (and the parents of new folders).
        //    The folders were made as the blobs were staged, so this is one rename per blob.
        var folders = new HashSet<string>(StringComparer.Ordinal);
        List<string> created;
        lock (_lock)
        {
            created = [.. _createdFolders];
            _createdFolders.Clear();
        }

        foreach ((ChunkId id, string temp) in staged)
        {
            folders.Add(_store.MoveIntoPlace(temp, id, created));
        }

        if (wholeFileSystem)
        {
            DurableFiles.SyncFileSystem(_store.Directory);
            return staged.Length;
        }

        foreach (string folder in created)
        {
            folders.Add(Path.GetDirectoryName(folder)!);
        }

        foreach (string folder in folders)
        {
            DurableFiles.FsyncDirectory(folder);
        }

        return staged.Length;
    }

    private bool ShouldStage(ChunkId id)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_lock)
        {
            if (_staged.ContainsKey(id))
            {
                return false;
            }
        }

        return !_store.Has(id);
    }

    private string NewTempPath(ChunkId id) => Path.Combine(_store.TempDirectory, $"{id}.{Guid.NewGuid():N}.tmp");

    internal static void WriteBuffered(string temp, ReadOnlySpan<byte> sealedBlob)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(temp, options);
        stream.Write(sealedBlob);
        DurableFiles.StartWriteback(stream.SafeFileHandle);
    }

    private bool Staged(ChunkId id, string temp)
    {
        bool added;
        lock (_lock)
        {
            added = _staged.TryAdd(id, temp);
        }

        if (!added)
        {
            File.Delete(temp); // lost a race with another thread staging the same id
            return false;
        }

        // The blob's fan-out folders are made now, while the data is being written, and not at the
        // commit, whose renames are the serial tail of every large write: in a young store nearly every
        // 1 MiB blob lands in a folder of its own, so this was a mkdir per blob on that tail. An empty
        // folder left by a batch that is never committed is harmless, and one pruned meanwhile by a
        // delete is made again by the rename.
        var created = new List<string>(2);
        _store.EnsureFolder(_store.FolderOf(id), created);
        if (created.Count > 0)
        {
            lock (_lock)
            {
                _createdFolders.AddRange(created);
            }
        }

        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_lock)
        {
            foreach (string temp in _staged.Values)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (IOException)
                {
                    // Left for the sweep at the next open.
                }
            }

            _staged.Clear();
        }
    }
}
