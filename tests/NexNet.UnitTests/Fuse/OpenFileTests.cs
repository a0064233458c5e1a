using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Fuse;
using NexNet.Node;

namespace NexNet.UnitTests.Fuse;

/// <summary>The mount's edit logic (what a file reads between writes, what a commit names) over a volume in memory.</summary>
public sealed class OpenFileTests
{
    private const int Chunk = 4096;
    private const int Large = Chunk * 6 + 100; // past the inline limit (16 KiB): committed as chunks

    private static (FakeFileStore Store, OpenFile File) NewFile(string path)
    {
        var store = new FakeFileStore(Chunk);
        return (store, new OpenFile(store, path, entry: null, mode: 0x1A4));
    }

    /// <summary>A file of <paramref name="length"/> random bytes committed earlier, opened again.</summary>
    private static (FakeFileStore Store, EntryInfo Before, OpenFile File, byte[] Data) Reopened(int length)
    {
        var store = new FakeFileStore(Chunk);
        byte[] data = Random(length);
        EntryInfo before = store.Existing("/f", data);
        return (store, before, new OpenFile(store, "/f", before, before.Mode), data);
    }

    private static byte[] Random(int length) => RandomNumberGenerator.GetBytes(length);

    private static byte[] ReadAll(OpenFile file)
    {
        var bytes = new byte[file.Length];
        Assert.Equal(bytes.Length, file.Read(0, bytes));
        return bytes;
    }

    [Fact]
    public void Writes_across_chunks_read_back_before_and_after_the_commit()
    {
        (FakeFileStore store, OpenFile file) = NewFile("/f");
        byte[] data = Random(Large);
        file.Write(0, data.AsSpan(0, 5000));
        file.Write(5000, data.AsSpan(5000));
        Assert.Equal(data, ReadAll(file));

        file.Commit();
        Assert.Equal(1, store.Commits);
        Assert.Equal(data, store.ContentsOf(store.Committed!));
        Assert.Equal(store.Committed!.Version, file.Version);
        Assert.False(file.Changed);
        Assert.Equal(store.Stored.Order(), store.Released.Order()); // every hold is given back once the record names the chunks
    }

    [Fact]
    public void A_small_file_is_committed_inline_without_storing_a_chunk()
    {
        (FakeFileStore store, OpenFile file) = NewFile("/small");
        byte[] data = Random(Volume.InlineLimit);
        file.Write(0, data);
        file.Commit();
        Assert.True(store.Committed!.Content!.IsInline);
        Assert.Equal(data, store.ContentsOf(store.Committed));
        Assert.Empty(store.Stored);
    }

    [Fact]
    public void Editing_one_byte_of_a_committed_file_rewrites_only_its_chunk()
    {
        (FakeFileStore store, EntryInfo before, OpenFile file, byte[] data) = Reopened(Large);
        file.Write((Chunk * 2) + 7, [0xAB]);
        data[(Chunk * 2) + 7] = 0xAB;
        Assert.Equal(data, ReadAll(file)); // the rest of the chunk was read back, not lost

        file.Commit();
        Assert.Equal(data, store.ContentsOf(store.Committed!));
        ChunkId[] was = [.. before.Content!.Chunks], now = [.. store.Committed!.Content!.Chunks];
        Assert.Equal([2], Enumerable.Range(0, was.Length).Where(i => was[i] != now[i]));
        Assert.Single(store.Stored);
    }

    [Fact]
    public void Extending_leaves_holes_that_read_as_zeros_and_store_nothing()
    {
        (FakeFileStore store, OpenFile file) = NewFile("/sparse");
        file.Write(0, [1, 2, 3]);
        file.Resize(Chunk * 8);
        file.Write((Chunk * 8) - 1, [9]);
        byte[] expected = new byte[Chunk * 8];
        expected[0] = 1;
        expected[1] = 2;
        expected[2] = 3;
        expected[^1] = 9;
        Assert.Equal(expected, ReadAll(file));

        file.Commit();
        ChunkId[] chunks = [.. store.Committed!.Content!.Chunks];
        Assert.Equal(6, chunks.Count(c => c.IsHole)); // chunks 1..6 were never written
        Assert.Equal(2, store.Stored.Count);
        Assert.Equal(expected, store.ContentsOf(store.Committed));
    }

    [Fact]
    public void Truncating_into_a_chunk_and_growing_again_reads_zeros_not_the_old_bytes()
    {
        (FakeFileStore store, _, OpenFile file, byte[] data) = Reopened(Large);
        file.Resize(Chunk + 10);
        file.Resize(Large);
        byte[] expected = new byte[Large];
        data.AsSpan(0, Chunk + 10).CopyTo(expected);
        Assert.Equal(expected, ReadAll(file));
        file.Commit();
        Assert.Equal(expected, store.ContentsOf(store.Committed!));
    }

    [Fact]
    public void A_long_sequential_write_keeps_a_bounded_number_of_chunks_in_memory()
    {
        (FakeFileStore store, OpenFile file) = NewFile("/big");
        byte[] data = Random(Chunk * 40);
        for (int at = 0; at < data.Length; at += Chunk)
        {
            file.Write(at, data.AsSpan(at, Chunk));
            int written = (at / Chunk) + 1;
            Assert.True(written - store.Stored.Count <= OpenFile.MaxDirty + OpenFile.MaxSealing,
                $"{written} chunks written, {store.Stored.Count} sealed: more than {OpenFile.MaxDirty + OpenFile.MaxSealing} in memory");
        }

        Assert.Equal(data, ReadAll(file)); // sealed chunks read back from the store
        file.Commit();
        Assert.Equal(data, store.ContentsOf(store.Committed!));
    }

    [Fact]
    public void An_unlinked_file_is_never_committed_but_stays_readable_after_its_last_close()
    {
        (FakeFileStore store, OpenFile file) = NewFile("/gone");
        byte[] data = Random(Large);
        file.Write(0, data);
        file.Unlinked = true;
        file.Commit();
        Assert.Equal(0, store.Commits);

        file.Close();
        file.Reopen();
        Assert.Equal(data, ReadAll(file)); // its edits were stored as chunks, not dropped
    }
}
