using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Storage;

/// <summary>
/// Receiving stages every new blob of a transfer in one batch, through the store's staging queue while it
/// reads on: whatever ends a transfer early, nothing of it is left (not even what the queue was still
/// writing), and a transfer that ends well stores each blob once.
/// </summary>
public sealed class BlobTransferTests : IDisposable
{
    private const int MaxBlob = 64 * 1024;
    private readonly TempDirectory _dir = new();
    private readonly BlobStore _store;
    private readonly BlobTransfer _transfer;

    public BlobTransferTests()
    {
        _store = new BlobStore(_dir.Combine("blobs"));
        _transfer = new BlobTransfer(_store, index: null, MaxBlob);
    }

    private static List<(ChunkId Id, byte[] Bytes)> RandomBlobs(int count) =>
        [.. Enumerable.Range(0, count).Select(i =>
        {
            byte[] bytes = RandomNumberGenerator.GetBytes(BlobFormat.HeaderSize + 1 + (i * 977 % (MaxBlob - BlobFormat.HeaderSize - 1)));
            return (ChunkId.FromBytes(SHA256.HashData(bytes)), bytes);
        })];

    private static async Task<MemoryStream> FramesAsync(IEnumerable<(ChunkId Id, byte[] Bytes)> blobs)
    {
        var stream = new MemoryStream();
        foreach ((ChunkId id, byte[] bytes) in blobs)
        {
            await BlobTransfer.SendAsync(id, bytes, stream);
        }

        stream.Position = 0;
        return stream;
    }

    private void AssertNothingLeft()
    {
        Assert.Empty(_store.Enumerate());
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("blobs", "tmp")));
    }

    [Fact]
    public async Task Every_blob_received_is_stored_once_and_every_id_is_returned_in_order()
    {
        List<(ChunkId Id, byte[] Bytes)> blobs = RandomBlobs(20);
        List<(ChunkId Id, byte[] Bytes)> sent = [.. blobs, blobs[3], blobs[17]];

        IReadOnlyList<ChunkId> received = await _transfer.ReceiveAsync(await FramesAsync(sent), static (_, _) => { }, TestContext.Current.CancellationToken);

        Assert.Equal(sent.Select(b => b.Id), received);
        foreach ((ChunkId id, byte[] bytes) in blobs)
        {
            Assert.Equal(bytes, _store.ReadAll(id));
        }

        Assert.Equal(blobs.Count, _store.Enumerate().Count());
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("blobs", "tmp")));
    }

    [Fact]
    public async Task A_blob_received_unstored_comes_back_checked_and_the_store_is_untouched()
    {
        List<(ChunkId Id, byte[] Bytes)> blobs = RandomBlobs(2);
        CancellationToken ct = TestContext.Current.CancellationToken;

        Assert.Equal(blobs[1].Bytes, await _transfer.ReceiveUnstoredAsync(await FramesAsync([blobs[1]]), blobs[1].Id, static (_, _) => { }, ct));
        AssertNothingLeft();

        // An empty answer is no copy; another chunk than asked, one the check refuses, or a cut frame: an error, never bytes.
        Assert.Null(await _transfer.ReceiveUnstoredAsync(new MemoryStream(), blobs[1].Id, static (_, _) => { }, ct));
        await Assert.ThrowsAsync<IntegrityException>(async () => await _transfer.ReceiveUnstoredAsync(await FramesAsync([blobs[0]]), blobs[1].Id, static (_, _) => { }, ct));
        await Assert.ThrowsAsync<IntegrityException>(async () => await _transfer.ReceiveUnstoredAsync(await FramesAsync([blobs[1]]), blobs[1].Id,
            static (id, _) => throw new IntegrityException($"{id} is bad"), ct));
        MemoryStream truncated = await FramesAsync([blobs[1]]);
        truncated.SetLength(truncated.Length - 1);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await _transfer.ReceiveUnstoredAsync(truncated, blobs[1].Id, static (_, _) => { }, ct));
    }

    [Fact]
    public async Task A_blob_the_store_already_holds_is_received_but_neither_written_again_nor_counted_as_stored()
    {
        List<(ChunkId Id, byte[] Bytes)> blobs = RandomBlobs(3);
        Assert.True(_store.Put(blobs[1].Id, blobs[1].Bytes));
        DateTime written = File.GetLastWriteTimeUtc(_store.PathOf(blobs[1].Id));
        var storedNow = new List<ChunkId>();

        IReadOnlyList<ChunkId> received = await _transfer.ReceiveAsync(await FramesAsync(blobs), static (_, _) => { },
            beforeCommit: null, afterCommit: storedNow.AddRange, TestContext.Current.CancellationToken);

        Assert.Equal(blobs.Select(b => b.Id), received);
        Assert.Equal([blobs[0].Id, blobs[2].Id], storedNow);
        Assert.Equal(written, File.GetLastWriteTimeUtc(_store.PathOf(blobs[1].Id)));
        Assert.Equal(3, _store.Enumerate().Count());
    }

    [Fact]
    public async Task A_blob_that_fails_its_check_leaves_nothing_of_the_transfer()
    {
        List<(ChunkId Id, byte[] Bytes)> blobs = RandomBlobs(12);
        ChunkId bad = blobs[9].Id;
        MemoryStream frames = await FramesAsync(blobs);

        await Assert.ThrowsAsync<IntegrityException>(() => _transfer.ReceiveAsync(frames,
            (id, _) => { if (id == bad) { throw new IntegrityException("bad blob"); } }, TestContext.Current.CancellationToken));

        AssertNothingLeft();
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_blob_leaves_nothing_of_the_transfer()
    {
        MemoryStream frames = await FramesAsync(RandomBlobs(12));
        var truncated = new MemoryStream(frames.ToArray()[..(int)(frames.Length - 100)]);

        await Assert.ThrowsAsync<EndOfStreamException>(() => _transfer.ReceiveAsync(truncated, static (_, _) => { }, TestContext.Current.CancellationToken));

        AssertNothingLeft();
    }

    public void Dispose() => _dir.Dispose();
}
