using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;
using NexNet.Storage.Internal;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Storage;

public sealed class BlobStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static (ChunkId Id, byte[] Bytes) RandomBlob(int size = 1000)
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(size);
        return (ChunkId.FromBytes(SHA256.HashData(bytes)), bytes);
    }

    [Fact]
    public void Put_lays_blobs_out_in_two_levels_of_fan_out()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        (ChunkId id, byte[] bytes) = RandomBlob();
        Assert.True(store.Put(id, bytes));
        string hex = id.ToString();
        string expected = _dir.Combine("blobs", hex[..2], hex[2..4], hex);
        Assert.Equal(expected, store.PathOf(id));
        Assert.Equal(bytes, File.ReadAllBytes(expected));
        Assert.True(store.Has(id));
        Assert.Equal(bytes.Length, store.LengthOf(id));
        Assert.Equal(bytes, store.ReadAll(id));
    }

    [Fact]
    public void Putting_the_same_id_twice_writes_once()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        (ChunkId id, byte[] bytes) = RandomBlob();
        Assert.True(store.Put(id, bytes));
        DateTime written = File.GetLastWriteTimeUtc(store.PathOf(id));
        Assert.False(store.Put(id, RandomNumberGenerator.GetBytes(10)));
        Assert.Equal(bytes, store.ReadAll(id));
        Assert.Equal(written, File.GetLastWriteTimeUtc(store.PathOf(id)));
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("blobs", "tmp")));
    }

    [Fact]
    public void Delete_removes_exactly_that_blob_and_prunes_empty_folders()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        (ChunkId a, byte[] aBytes) = RandomBlob();
        (ChunkId b, byte[] bBytes) = RandomBlob();
        store.Put(a, aBytes);
        store.Put(b, bBytes);
        Assert.True(store.Delete(a));
        Assert.False(store.Delete(a));
        Assert.False(store.Has(a));
        Assert.True(store.Has(b));
        Assert.False(Directory.Exists(Path.GetDirectoryName(store.PathOf(a))));
        Assert.Equal([b], store.Enumerate());

        store.Delete(b);
        Assert.Equal(["tmp"], Directory.EnumerateFileSystemEntries(_dir.Combine("blobs")).Select(Path.GetFileName));
        (ChunkId c, byte[] cBytes) = RandomBlob();
        Assert.True(store.Put(c, cBytes)); // folders are made again after pruning
        Assert.Equal(cBytes, store.ReadAll(c));
    }

    [Fact]
    public void Enumerate_and_total_bytes_see_every_blob_and_skip_strays()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        var blobs = Enumerable.Range(0, 50).Select(i => RandomBlob(100 + i)).ToList();
        foreach ((ChunkId id, byte[] bytes) in blobs)
        {
            store.Put(id, bytes);
        }

        File.WriteAllText(_dir.Combine("blobs", "README"), "stray");
        string folder = Path.GetDirectoryName(store.PathOf(blobs[0].Id))!;
        File.WriteAllText(Path.Combine(folder, "not-an-id"), "stray");
        File.WriteAllText(Path.Combine(folder, blobs[0].Id.ToString().ToUpperInvariant()), "stray");

        Assert.Equal(blobs.Select(b => b.Id).Order(), store.Enumerate().Order());
        Assert.Equal(blobs.Sum(b => (long)b.Bytes.Length), store.TotalBytes());
    }

    [Fact]
    public void Opening_a_store_removes_temp_files_left_by_a_crash()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        File.WriteAllText(Path.Combine(store.Directory, "tmp", "abc.tmp"), "partial");
        _ = new BlobStore(_dir.Combine("blobs"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Directory, "tmp")));
    }

    [Fact]
    public void An_uncommitted_batch_leaves_nothing_visible()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        (ChunkId id, byte[] bytes) = RandomBlob();
        using (BlobWriteBatch batch = store.BeginBatch())
        {
            Assert.True(batch.Add(id, bytes));
            Assert.False(batch.Add(id, bytes));
            Assert.Equal(1, batch.Pending);
        }

        Assert.False(store.Has(id));
        Assert.Empty(store.Enumerate());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Directory, "tmp")));
    }

    [Fact]
    public void A_batch_makes_folders_as_it_stages_and_commits_even_when_a_delete_pruned_them_meanwhile()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        (ChunkId id, byte[] bytes) = RandomBlob();
        (ChunkId neighbour, byte[] neighbourBytes) = (SameFolderAs(id), RandomNumberGenerator.GetBytes(100));
        string folder = Path.GetDirectoryName(store.PathOf(id))!;
        using BlobWriteBatch batch = store.BeginBatch();
        Assert.True(batch.Add(id, bytes));
        Assert.True(Directory.Exists(folder));
        Assert.False(store.Has(id));

        // A blob of the same folder comes and goes before the commit: its delete prunes the (empty) folder.
        Assert.True(store.Put(neighbour, neighbourBytes));
        Assert.True(store.Delete(neighbour));
        Assert.False(Directory.Exists(folder));

        Assert.Equal(1, batch.Commit());
        Assert.Equal(bytes, store.ReadAll(id));
        Assert.Equal([id], store.Enumerate());
    }

    /// <summary>Another id whose blob shares <paramref name="id"/>'s fan-out folder (same first two bytes).</summary>
    private static ChunkId SameFolderAs(ChunkId id)
    {
        byte[] bytes = id.ToBytes();
        bytes[^1] ^= 0xff;
        return ChunkId.FromBytes(bytes);
    }

    [Fact]
    public void A_blob_stored_while_a_batch_was_open_is_kept_when_the_batch_commits()
    {
        // A fetch (checked) and a push (not yet checked) of the same chunk may land together: the first stays.
        var store = new BlobStore(_dir.Combine("blobs"));
        (ChunkId id, byte[] first) = RandomBlob();
        byte[] other = RandomNumberGenerator.GetBytes(first.Length);
        using BlobWriteBatch batch = store.BeginBatch();
        Assert.True(batch.Add(id, other));
        Assert.True(store.PutVolatile(id, first));
        Assert.Equal(1, batch.Commit());
        Assert.Equal(first, store.ReadAll(id));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Directory, "tmp")));
    }

    [Fact]
    public void A_rename_that_must_not_replace_says_so_and_leaves_both_files()
    {
        string from = _dir.Combine("from"), to = _dir.Combine("to");
        File.WriteAllText(from, "new");
        File.WriteAllText(to, "old");
        Assert.False(DurableFiles.RenameNoReplace(from, to));
        Assert.Equal("old", File.ReadAllText(to));
        Assert.Equal("new", File.ReadAllText(from));

        File.Delete(to);
        Assert.True(DurableFiles.RenameNoReplace(from, to));
        Assert.Equal("new", File.ReadAllText(to));
        Assert.False(File.Exists(from));
        Assert.Throws<DirectoryNotFoundException>(() => DurableFiles.RenameNoReplace(to, _dir.Combine("missing", "to")));
    }

    [Fact]
    public void A_batch_commits_many_blobs_from_many_threads()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        var blobs = Enumerable.Range(0, 200).Select(_ => RandomBlob(4096)).ToList();
        using BlobWriteBatch batch = store.BeginBatch();
        Parallel.ForEach(blobs, b => batch.Add(b.Id, b.Bytes));
        Assert.Equal(200, batch.Commit());
        Assert.All(blobs, b => Assert.Equal(b.Bytes, store.ReadAll(b.Id)));
    }

    [Fact]
    public void Reading_a_missing_blob_is_a_typed_error()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        ChunkId id = RandomBlob().Id;
        BlobNotFoundException e = Assert.Throws<BlobNotFoundException>(() => store.OpenRead(id));
        Assert.Equal(id, e.Id);
        Assert.Throws<BlobNotFoundException>(() => store.LengthOf(id));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(DirectIo.Alignment)]
    [InlineData(DirectIo.Alignment + 36)]
    [InlineData((3 * DirectIo.Alignment) - 1)]
    public void An_aligned_put_writes_exactly_the_blob(int length)
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        var buffer = new AlignedBuffer(3 * DirectIo.Alignment);
        buffer.Span.Fill(0xEE); // stands for an earlier chunk's bytes left in a reused buffer
        byte[] blob = RandomNumberGenerator.GetBytes(length);
        blob.CopyTo(buffer.Span);
        ChunkId id = ChunkId.FromBytes(SHA256.HashData(blob));
        using (BlobWriteBatch batch = store.BeginBatch())
        {
            Assert.True(batch.TryReserve(id));
            Assert.True(batch.AddAlignedIfNew(id, buffer.Span, blob.Length));
            batch.Commit();
        }

        Assert.Equal(blob, store.ReadAll(id));
        Assert.Equal(length, new FileInfo(store.PathOf(id)).Length);
    }

    [Fact]
    public void Without_direct_io_aligned_puts_are_buffered_and_other_stores_are_unaffected()
    {
        var buffered = new BlobStore(_dir.Combine("buffered"), directIo: false);
        var direct = new BlobStore(_dir.Combine("direct"));
        foreach (BlobStore store in new[] { buffered, direct })
        {
            var buffer = new AlignedBuffer(2 * DirectIo.Alignment);
            byte[] blob = RandomNumberGenerator.GetBytes(5000);
            blob.CopyTo(buffer.Span);
            ChunkId id = ChunkId.FromBytes(SHA256.HashData(blob));
            using BlobWriteBatch batch = store.BeginBatch();
            Assert.True(batch.TryReserve(id));
            Assert.True(batch.AddAlignedIfNew(id, buffer.Span, blob.Length));
            batch.Commit();
            Assert.Equal(blob, store.ReadAll(id));
            Assert.Equal(blob.Length, store.LengthOf(id));
        }

        Assert.False(buffered.UsesDirectIo);
        Assert.Equal(IsDirectIoFileSystem(_dir.Path), direct.UsesDirectIo);
    }

    /// <summary>
    /// Whether the temp folder's file system takes O_DIRECT (ext4 and xfs do; tmpfs and overlay may not), asked
    /// through .NET's own open (FileOptions 0x20000000, "no buffering", is O_DIRECT on Linux) rather than
    /// through the DirectIo code the store uses.
    /// </summary>
    private static bool IsDirectIoFileSystem(string path)
    {
        string probe = Path.Combine(path, "direct-probe");
        var buffer = new AlignedBuffer(4096);
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, (FileOptions)0x20000000);
            RandomAccess.Write(file, buffer.Span, 0);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
        finally
        {
            File.Delete(probe);
        }
    }

    [Fact]
    public void An_aligned_put_of_an_unreserved_id_is_refused()
    {
        var store = new BlobStore(_dir.Combine("blobs"));
        var buffer = new AlignedBuffer(DirectIo.Alignment);
        using BlobWriteBatch batch = store.BeginBatch();
        Assert.Throws<InvalidOperationException>(() => batch.AddAlignedIfNew(RandomBlob().Id, buffer.Span, 10));
    }

    public void Dispose() => _dir.Dispose();
}
