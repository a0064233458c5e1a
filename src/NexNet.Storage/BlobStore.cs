using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using NexNet.Crypto;
using NexNet.Storage.Internal;

namespace NexNet.Storage;

/// <summary>
/// Sealed chunks as files, named by id: <c>ab/cd/&lt;64 hex&gt;</c> under the store's directory (256 × 256
/// folders). A blob is either wholly present under its final name or absent: it is written to
/// <c>tmp/</c>, flushed to disk, renamed into place, and its folder is flushed, so neither a killed
/// process nor a power cut leaves a partial blob visible.
/// </summary>
/// <remarks>
/// Single puts pay two flushes each. Bulk writers use <see cref="BeginBatch"/>: files are staged with
/// early writeback, then made durable together, which lets the file system merge the journal commits.
/// Leftover temp files from a crash are removed when the store is opened; one process owns a store.
/// </remarks>
public sealed partial class BlobStore
{
    private const string TempFolder = "tmp";

    private readonly ConcurrentDictionary<string, bool> _knownFolders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, AlignedBufferPool> _bufferPools = new();
    private bool _directIoUnsupported;
    private long _stagedSinceFlush;
    private int _flushing;

    public BlobStore(string directory)
        : this(directory, directIo: true)
    {
    }

    /// <summary>With <paramref name="directIo"/> false, every write is buffered (the path for file systems that refuse O_DIRECT).</summary>
    internal BlobStore(string directory, bool directIo)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directIoUnsupported = !directIo;
        Directory = Path.GetFullPath(directory);
        TempDirectory = Path.Combine(Directory, TempFolder);
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(TempDirectory);
        RemoveLeftoverTempFiles();
    }

    public string Directory { get; }

    internal string TempDirectory { get; }

    /// <summary>
    /// The store's pool of aligned buffers of (at least) this size, shared by everyone writing here: a pool
    /// keeps what was ever in use at once, and the staging queue bounds that per store, not per writer.
    /// </summary>
    internal AlignedBufferPool Buffers(int bufferSize) => _bufferPools.GetOrAdd(DirectIo.Padded(bufferSize), static size => new AlignedBufferPool(size));

    /// <summary>Where large writes stage their blobs: off the threads that seal, send and receive.</summary>
    internal StagingQueue Staging { get; } = new();

    /// <summary>
    /// Staged bytes after which the store flushes the file system in the background while a large write
    /// goes on. The virtual disk here keeps what it is given in its host's cache until asked to flush, and
    /// a flush of a whole GiB times three at the end of a write took 0.3–1.6 s with both cores idle; in
    /// pieces while the write runs, with the staging queue absorbing each stall, most of it overlaps the
    /// sealing and sending (bench/RESULTS.md, 2026-12-02, the staging queue). The commit's own flush still makes
    /// the batch durable: these only start the disk's work earlier.
    /// </summary>
    internal const long BackgroundFlushBytes = 96L << 20;

    /// <summary>Counts staged bytes and starts a background flush each <see cref="BackgroundFlushBytes"/>, one at a time.</summary>
    internal void NoteStaged(int length)
    {
        if (!DurableFiles.CanSyncFileSystem
            || Interlocked.Add(ref _stagedSinceFlush, length) < BackgroundFlushBytes
            || Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _stagedSinceFlush, 0);
        new Thread(FlushInBackground) { IsBackground = true, Name = "NexNet background flush" }.Start();
    }

    private void FlushInBackground()
    {
        try
        {
            DurableFiles.SyncFileSystem(TempDirectory);
        }
        catch (IOException)
        {
            // Only a head start: the batch's commit flushes again and reports a failing disk to its writer.
        }
        finally
        {
            Volatile.Write(ref _flushing, 0);
        }
    }

    /// <summary>False once the store's file system has refused direct I/O (tmpfs does); writes are then buffered.</summary>
    internal bool UsesDirectIo => !_directIoUnsupported;

    /// <summary>Writes a new temp file from an aligned buffer, directly where this file system allows it.</summary>
    internal bool TryWriteDirect(string path, Span<byte> alignedBuffer, int length) =>
        DirectIo.TryWriteNewFile(path, alignedBuffer, length, ref _directIoUnsupported);

    /// <summary>Where the blob with this id lives (whether or not it exists).</summary>
    public string PathOf(ChunkId id)
    {
        string hex = id.ToString();
        return Path.Combine(Directory, hex[..2], hex[2..4], hex);
    }

    public bool Has(ChunkId id) => File.Exists(PathOf(id));

    /// <summary>The fan-out folder the blob with this id lives in.</summary>
    internal string FolderOf(ChunkId id) => Path.GetDirectoryName(PathOf(id))!;

    /// <summary>Size in bytes of a stored blob.</summary>
    public long LengthOf(ChunkId id)
    {
        var info = new FileInfo(PathOf(id));
        return info.Exists ? info.Length : throw new BlobNotFoundException(id);
    }

    /// <summary>Stores a sealed blob durably. Returns false (and writes nothing) when the id is already stored.</summary>
    public bool Put(ChunkId id, ReadOnlySpan<byte> sealedBlob)
    {
        if (Has(id))
        {
            return false;
        }

        using BlobWriteBatch batch = BeginBatch();
        bool staged = batch.Add(id, sealedBlob);
        batch.Commit();
        return staged;
    }

    /// <summary>
    /// Stores a sealed blob atomically (temp file, rename) but without flushing: it survives the process
    /// being killed, and a power cut once <see cref="MakeDurable"/> has covered it. Returns false when the
    /// id is already stored.
    /// </summary>
    public bool PutVolatile(ChunkId id, ReadOnlySpan<byte> sealedBlob)
    {
        if (Has(id))
        {
            return false;
        }

        EnsureRoom(sealedBlob.Length);
        string temp = Path.Combine(TempDirectory, $"{id}.{Guid.NewGuid():N}.tmp");
        BlobWriteBatch.WriteBuffered(temp, sealedBlob);
        MoveIntoPlace(temp, id, []);
        return true;
    }

    /// <summary>
    /// Renames a written temp file to the blob's final name, making its folders as needed, unless a blob
    /// of that id is already there: then the temp file is dropped and the stored blob kept. A blob in
    /// place is never replaced, so a copy checked once (a read trusts it) cannot be swapped for a copy
    /// nobody checked, such as a replica a peer pushes as a fetch lands. Returns the folder.
    /// </summary>
    internal string MoveIntoPlace(string temp, ChunkId id, ICollection<string> createdFolders)
    {
        string final = PathOf(id);
        string folder = Path.GetDirectoryName(final)!;
        for (int attempt = 0; ; attempt++)
        {
            EnsureFolder(folder, createdFolders);
            try
            {
                if (!DurableFiles.RenameNoReplace(temp, final))
                {
                    File.Delete(temp);
                }

                return folder;
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
                ForgetFolder(folder); // pruned by a concurrent delete; make it again
            }
        }
    }

    /// <summary>
    /// Makes blobs stored with <see cref="PutVolatile"/> durable: each file and its folders flushed, or
    /// for many at once one sync of the whole file system (as a batch commit does).
    /// </summary>
    public void MakeDurable(IReadOnlyCollection<ChunkId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return;
        }

        if (ids.Count >= BlobWriteBatch.SyncFileSystemThreshold && DurableFiles.CanSyncFileSystem)
        {
            DurableFiles.SyncFileSystem(Directory);
            return;
        }

        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (ChunkId id in ids)
        {
            string path = PathOf(id);
            try
            {
                using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.FlushToDisk(handle);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                continue; // collected meanwhile: nothing to keep
            }

            string inner = Path.GetDirectoryName(path)!;
            folders.Add(inner);
            folders.Add(Path.GetDirectoryName(inner)!);
        }

        folders.Add(Directory);
        foreach (string folder in folders)
        {
            DurableFiles.FsyncDirectory(folder);
        }
    }

    /// <summary>Starts a group of puts that become durable together at <see cref="BlobWriteBatch.Commit"/>.</summary>
    public BlobWriteBatch BeginBatch() => new(this);

    /// <summary>Opens a blob for positional reads (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>).</summary>
    public SafeFileHandle OpenRead(ChunkId id)
    {
        try
        {
            return File.OpenHandle(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(id);
        }
    }

    /// <summary>Reads a whole blob into a new array (for sending or verifying; not for the read path).</summary>
    public byte[] ReadAll(ChunkId id)
    {
        using SafeFileHandle handle = OpenRead(id);
        long length = RandomAccess.GetLength(handle);
        byte[] bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        int read = ReadFully(handle, bytes, 0);
        return read == bytes.Length ? bytes : bytes[..read];
    }

    /// <summary>Reads a whole blob into <paramref name="destination"/> (which must hold it); returns its length.</summary>
    public int ReadInto(ChunkId id, Span<byte> destination)
    {
        using SafeFileHandle handle = OpenRead(id);
        long length = RandomAccess.GetLength(handle);
        if (length > destination.Length)
        {
            throw new IntegrityException($"blob {id} is {length} bytes, more than the largest blob of this volume ({destination.Length})");
        }

        return ReadFully(handle, destination[..(int)length], 0);
    }

    /// <summary>
    /// Deletes the blob, as <see cref="Delete(ChunkId)"/>, and then its row in <paramref name="index"/>
    /// (its size and use), so the index never lists a blob the store lacks.
    /// </summary>
    public bool Delete(ChunkId id, BlobIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        bool deleted = Delete(id);
        index.RemoveBlob(id);
        return deleted;
    }

    /// <summary>Deletes exactly this blob and prunes its folders if they became empty. Returns false if it was absent.</summary>
    public bool Delete(ChunkId id)
    {
        string path = PathOf(id);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        string inner = Path.GetDirectoryName(path)!;
        if (TryRemoveEmptyFolder(inner))
        {
            TryRemoveEmptyFolder(Path.GetDirectoryName(inner)!);
        }

        return true;
    }

    /// <summary>Every stored blob's id. Files whose names are not ids (strays, temp files) are skipped.</summary>
    public IEnumerable<ChunkId> Enumerate()
    {
        foreach (string outer in System.IO.Directory.EnumerateDirectories(Directory))
        {
            if (!IsFanOutName(Path.GetFileName(outer)))
            {
                continue;
            }

            foreach (string inner in SafeEnumerateDirectories(outer))
            {
                if (!IsFanOutName(Path.GetFileName(inner)))
                {
                    continue;
                }

                foreach (string file in SafeEnumerateFiles(inner))
                {
                    if (ChunkId.TryParse(Path.GetFileName(file), out ChunkId id))
                    {
                        yield return id;
                    }
                }
            }
        }
    }

    /// <summary>Total bytes of all stored blobs.</summary>
    public long TotalBytes()
    {
        long total = 0;
        foreach (ChunkId id in Enumerate())
        {
            var info = new FileInfo(PathOf(id));
            if (info.Exists)
            {
                total += info.Length;
            }
        }

        return total;
    }

    internal static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <summary>Ensures the fan-out folders exist; returns the folders that were created (their parents need a flush).</summary>
    internal void EnsureFolder(string folder, ICollection<string> created)
    {
        if (_knownFolders.ContainsKey(folder))
        {
            return;
        }

        string outer = Path.GetDirectoryName(folder)!;
        if (!System.IO.Directory.Exists(outer))
        {
            System.IO.Directory.CreateDirectory(outer);
            created.Add(outer);
        }

        if (!System.IO.Directory.Exists(folder))
        {
            System.IO.Directory.CreateDirectory(folder);
            created.Add(folder);
        }

        _knownFolders.TryAdd(folder, true);
    }

    internal void ForgetFolder(string folder) => _knownFolders.TryRemove(folder, out _);

    private bool TryRemoveEmptyFolder(string folder)
    {
        try
        {
            ForgetFolder(folder);
            foreach (string inner in SafeEnumerateDirectories(folder))
            {
                ForgetFolder(inner);
            }

            System.IO.Directory.Delete(folder, recursive: false);
            return true;
        }
        catch (IOException)
        {
            return false; // not empty (another blob shares it), or already gone
        }
    }

    private void RemoveLeftoverTempFiles()
    {
        foreach (string file in System.IO.Directory.EnumerateFiles(TempDirectory))
        {
            File.Delete(file);
        }
    }

    private static bool IsFanOutName(string name) =>
        name.Length == 2 && IsLowerHex(name[0]) && IsLowerHex(name[1]);

    private static bool IsLowerHex(char c) => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f';

    private static IEnumerable<string> SafeEnumerateDirectories(string path) =>
        System.IO.Directory.Exists(path) ? System.IO.Directory.EnumerateDirectories(path) : [];

    private static IEnumerable<string> SafeEnumerateFiles(string path) =>
        System.IO.Directory.Exists(path) ? System.IO.Directory.EnumerateFiles(path) : [];
}
