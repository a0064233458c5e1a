using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NexNet.Crypto;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Storage;

/// <summary>Chunking, dedup and random-access reads, with a small chunk size so that every boundary is reached cheaply.</summary>
public sealed class ChunkStoreTests : IDisposable
{
    private const int Chunk = 4096;
    private readonly TempDirectory _dir = new();
    private readonly VolumeKeys _keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32));
    private readonly BlobCipher _cipher;
    private readonly ChunkStore _store;

    public ChunkStoreTests()
    {
        _cipher = new BlobCipher(_keys);
        _store = new ChunkStore(new BlobStore(_dir.Combine("blobs")), _cipher, chunkSize: Chunk);
    }

    private ChunkList Write(byte[] data) => _store.WriteAsync(new MemoryStream(data)).GetAwaiter().GetResult();

    [Fact]
    public void A_single_stored_chunk_reads_back_and_a_hole_reads_as_zeros()
    {
        byte[] data = RandomNumberGenerator.GetBytes(Chunk);
        ChunkId id = _store.StoreChunk(data);
        Assert.Equal(id, _store.StoreChunk(data)); // stored once, same name
        Assert.True(_store.Blobs.Has(id));
        byte[] back = new byte[100];
        _store.ReadChunk(id, 50, back);
        Assert.Equal(data.AsSpan(50, 100).ToArray(), back);

        var file = new ChunkList(Chunk, (2L * Chunk) + 10, [ChunkId.Hole, id, ChunkId.Hole]);
        byte[] whole = new byte[file.Length];
        Assert.Equal(file.Length, _store.Read(file, 0, whole));
        Assert.True(whole.AsSpan(0, Chunk).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(data.AsSpan(0, 100).ToArray(), whole.AsSpan(Chunk, 100).ToArray());
        Assert.True(whole.AsSpan(2 * Chunk).IndexOfAnyExcept((byte)0) < 0);
        _store.Blobs.MakeDurable([id]); // flushing what is there is fine; nothing is rewritten
        Assert.Equal(data.Length, new FileInfo(_store.Blobs.PathOf(id)).Length - BlobFormat.HeaderSize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk - 1)]
    [InlineData(Chunk)]
    [InlineData(Chunk + 1)]
    [InlineData((5 * Chunk) + 123)]
    public void A_stream_splits_into_fixed_chunks_and_reads_back(int length)
    {
        byte[] data = RandomNumberGenerator.GetBytes(length);
        ChunkList list = Write(data);
        Assert.Equal(length, list.Length);
        Assert.Equal((length + Chunk - 1) / Chunk, list.Chunks.Length);
        byte[] back = new byte[length + 10];
        Assert.Equal(length, _store.Read(list, 0, back));
        Assert.Equal(data, back[..length]);
        using var copy = new MemoryStream();
        _store.OpenRead(list).CopyTo(copy);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public void Every_chunk_is_a_sealed_blob_that_verifies_against_its_id()
    {
        byte[] data = RandomNumberGenerator.GetBytes((3 * Chunk) + 5);
        ChunkList list = Write(data);
        for (int i = 0; i < list.Chunks.Length; i++)
        {
            byte[] sealedBlob = _store.Blobs.ReadAll(list.Chunks[i]);
            byte[] plain = new byte[sealedBlob.Length];
            int n = _cipher.Open(sealedBlob, list.Chunks[i], plain);
            Assert.Equal(data.AsSpan(i * Chunk, list.LengthOf(i)).ToArray(), plain[..n]);
        }
    }

    [Fact]
    public void Equal_content_gets_equal_ids_and_is_stored_once()
    {
        byte[] block = RandomNumberGenerator.GetBytes(Chunk);
        byte[] data = [.. block, .. block, .. block, .. RandomNumberGenerator.GetBytes(Chunk), .. block];
        ChunkList first = Write(data);
        Assert.Equal(5, first.Chunks.Length);
        Assert.Equal(2, first.Chunks.Distinct().Count());
        Assert.Equal(2, _store.Blobs.Enumerate().Count());

        ChunkList second = Write(data); // the same file again: nothing new on disk
        Assert.Equal(first.Chunks, second.Chunks);
        Assert.Equal(2, _store.Blobs.Enumerate().Count());
    }

    public static TheoryData<long, int> BoundaryRanges()
    {
        var data = new TheoryData<long, int>();
        long[] offsets = [0, 1, 15, 16, 17, Chunk - 17, Chunk - 16, Chunk - 1, Chunk, Chunk + 1, Chunk + 15, Chunk + 16, (2 * Chunk) - 1, (3 * Chunk) + 7];
        int[] lengths = [0, 1, 15, 16, 17, Chunk - 1, Chunk, Chunk + 1, (2 * Chunk) + 33, 10 * Chunk];
        foreach (long o in offsets)
        {
            foreach (int l in lengths)
            {
                data.Add(o, l);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BoundaryRanges))]
    public void Ranges_around_block_and_chunk_boundaries_read_exactly(long offset, int length)
    {
        byte[] data = RandomNumberGenerator.GetBytes((4 * Chunk) + 100);
        ChunkList list = Write(data);
        byte[] output = new byte[length];
        int n = _store.Read(list, offset, output);
        int expected = (int)Math.Max(0, Math.Min(length, data.Length - offset));
        Assert.Equal(expected, n);
        Assert.Equal(data.AsSpan((int)offset, expected).ToArray(), output[..n]);
    }

    [Fact]
    public void Any_range_reads_the_same_bytes_as_the_source() =>
        Prop.ForAll(
            Gen.Choose(0, 6 * Chunk).ToArbitrary(),
            Gen.Choose(0, 6 * Chunk).ToArbitrary(),
            Gen.Choose(0, 3 * Chunk).ToArbitrary(),
            (size, offset, length) =>
            {
                byte[] data = RandomNumberGenerator.GetBytes(size);
                ChunkList list = Write(data);
                byte[] output = new byte[length];
                int n = _store.Read(list, offset, output);
                int expected = Math.Max(0, Math.Min(length, size - offset));
                return n == expected && data.AsSpan(Math.Min(offset, size), expected).SequenceEqual(output.AsSpan(0, n));
            }).QuickCheckThrowOnFailure();

    [Fact]
    public async Task A_failing_source_fails_the_write_and_leaves_no_blob()
    {
        var source = new FailingStream(RandomNumberGenerator.GetBytes(10 * Chunk), failAfterBytes: (6 * Chunk) + 10);
        IOException e = await Assert.ThrowsAsync<IOException>(() => _store.WriteAsync(source, TestContext.Current.CancellationToken));
        Assert.Equal("source failed", e.Message);
        Assert.Empty(_store.Blobs.Enumerate());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_store.Blobs.Directory, "tmp")));
    }

    [Fact]
    public async Task A_failing_disk_fails_the_write_instead_of_hanging()
    {
        // The temp folder vanishes under the writer: every stage fails, as on a full or broken disk.
        Directory.Delete(Path.Combine(_store.Blobs.Directory, "tmp"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        Task<ChunkList> write = _store.WriteAsync(new MemoryStream(RandomNumberGenerator.GetBytes(50 * Chunk)), timeout.Token);
        await Assert.ThrowsAnyAsync<IOException>(() => write);
        Assert.False(timeout.IsCancellationRequested, "the write failed only because the test's deadline cancelled it");
    }

    [Fact]
    public async Task A_cancelled_token_refuses_the_write()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.WriteAsync(new MemoryStream(new byte[10 * Chunk]), cts.Token));
        Assert.Empty(_store.Blobs.Enumerate());
    }

    [Fact]
    public async Task Cancellation_in_the_middle_stops_the_write_and_leaves_no_blob()
    {
        // The source cancels the write itself once 6 of its 50 chunks are read: the moment is fixed, not raced.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var source = new CancellingStream(RandomNumberGenerator.GetBytes(50 * Chunk), cancelAfterBytes: 6 * Chunk, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.WriteAsync(source, cts.Token));
        Assert.True(source.Position < 50 * Chunk, $"the write read on to byte {source.Position} of {50 * Chunk} after it was cancelled");
        Assert.Empty(_store.Blobs.Enumerate());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_store.Blobs.Directory, "tmp")));
    }

    [Fact]
    public void A_missing_chunk_is_a_typed_error()
    {
        ChunkList list = Write(RandomNumberGenerator.GetBytes(2 * Chunk));
        _store.Blobs.Delete(list.Chunks[1]);
        BlobNotFoundException e = Assert.Throws<BlobNotFoundException>(() => _store.Read(list, Chunk + 5, new byte[10]));
        Assert.Equal(list.Chunks[1], e.Id);
    }

    [Fact]
    public void A_damaged_blob_header_is_caught_by_a_range_read()
    {
        ChunkList list = Write(RandomNumberGenerator.GetBytes(2 * Chunk));
        string path = _store.Blobs.PathOf(list.Chunks[1]);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[BlobFormat.IvOffset + 3] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        Assert.Equal(10, _store.Read(list, 5, new byte[10]));
        Assert.Throws<IntegrityException>(() => _store.Read(list, Chunk + 5, new byte[10]));
    }

    [Fact]
    public void A_truncated_blob_is_an_integrity_error()
    {
        ChunkList list = Write(RandomNumberGenerator.GetBytes(2 * Chunk));
        string path = _store.Blobs.PathOf(list.Chunks[0]);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);
        Assert.Throws<IntegrityException>(() => _store.Read(list, 0, new byte[Chunk]));
    }

    /// <summary>Yields its bytes, then throws once <paramref name="failAfterBytes"/> have been read.</summary>
    private sealed class FailingStream(byte[] data, int failAfterBytes) : ReadOnlyStream
    {
        private int _position;

        public override long Length => data.Length;

        public override int Read(Span<byte> buffer)
        {
            if (_position >= failAfterBytes)
            {
                throw new IOException("source failed");
            }

            int n = Math.Min(buffer.Length, Math.Min(data.Length, failAfterBytes) - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
    }

    /// <summary>Hands out <paramref name="data"/> and cancels <paramref name="cts"/> once <paramref name="cancelAfterBytes"/> have gone.</summary>
    private sealed class CancellingStream(byte[] data, int cancelAfterBytes, CancellationTokenSource cts) : ReadOnlyStream
    {
        private int _position;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(Span<byte> buffer)
        {
            if (_position >= cancelAfterBytes)
            {
                cts.Cancel();
            }

            int n = Math.Min(buffer.Length, data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
    }

    public void Dispose()
    {
        _cipher.Dispose();
        _keys.Dispose();
        _dir.Dispose();
    }
}
