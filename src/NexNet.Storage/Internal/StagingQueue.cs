using NexNet.Crypto;

namespace NexNet.Storage.Internal;

/// <summary>
/// The disk side of a store's large writes: sealed or received blobs wait here to be staged into their
/// batch by a few dedicated threads, so that the threads that seal, send and receive never
/// touch the file system themselves. Bounded: a producer waits for a slot, so at most
/// <see cref="Capacity"/> blobs (and their buffers) wait at once, whoever produces them.
/// </summary>
/// <remarks>
/// Why: the store flushes in the background while a large write runs (<see cref="BlobStore"/>), and on
/// this journal-less ext4 a flush holds every directory and inode block it writes until the disk has
/// flushed, so any create, mkdir or path lookup (a <c>Has</c>) in those folders waits for it. With the
/// file system work on the sealing and receiving threads, every background flush stopped the whole
/// pipeline (both cores idle, measured); with it here, the queue absorbs the stall and the cores keep
/// hashing, sealing and moving bytes. The drainers are plain threads, not pool threads: they block in
/// the kernel by design.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphores never hand out wait handles, so they hold nothing to dispose; the queue lives as long as its store.")]
internal sealed class StagingQueue
{
    /// <summary>Blobs that may wait at once: 32 chunk buffers, ~32 MiB, covers a flush of ~100 MiB on this machine's disk.</summary>
    public const int Capacity = 32;

    /// <summary>
    /// Smaller blobs are staged on the caller's thread: a small file's one blob is not worth two thread
    /// hand-offs (they cost 1,000 files of 4 KiB ~10% of their speed), and small blobs rarely meet a
    /// background flush, which comes once per <see cref="BlobStore.BackgroundFlushBytes"/>.
    /// </summary>
    public const int QueuedFrom = 256 * 1024;

    /// <summary>Drainers: two keep a direct write always in flight while another is being set up.</summary>
    private const int Drainers = 2;

    /// <summary>How long an idle drainer waits for more before its thread ends.</summary>
    private static readonly TimeSpan s_linger = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly Queue<Item> _items = new();
    private readonly SemaphoreSlim _slots = new(Capacity, Capacity);

    /// <summary>One count per queued item, released under <see cref="_lock"/> with the enqueue.</summary>
    private readonly SemaphoreSlim _queued = new(0);
    private int _drainers;

    /// <summary>
    /// Waits for a slot, then queues the blob at the start of <paramref name="buffer"/> to be staged in
    /// <paramref name="batch"/>, which has reserved its id (<see cref="BlobWriteBatch.TryReserve"/>). The
    /// returned task says whether it was staged (false: the store already had it); the caller keeps the
    /// buffer untouched until that task ends.
    /// </summary>
    public async ValueTask<Task<bool>> EnqueueAsync(BlobWriteBatch batch, ChunkId id, AlignedBuffer buffer, int length, CancellationToken cancellationToken)
    {
        if (length < QueuedFrom)
        {
            return StageHere(batch, id, buffer, length);
        }

        await _slots.WaitAsync(cancellationToken);
        var item = new Item(batch, id, buffer, length);
        bool startDrainer = false;
        lock (_lock)
        {
            _items.Enqueue(item);
            _queued.Release();
            if (_drainers < Drainers)
            {
                _drainers++;
                startDrainer = true;
            }
        }

        if (startDrainer)
        {
            new Thread(Drain) { IsBackground = true, Name = "NexNet blob staging" }.Start();
        }

        return item.Done.Task;
    }

    private static Task<bool> StageHere(BlobWriteBatch batch, ChunkId id, AlignedBuffer buffer, int length)
    {
        try
        {
            return Task.FromResult(batch.AddAlignedIfNew(id, buffer.Span, length));
        }
        catch (Exception e)
        {
            return Task.FromException<bool>(e);
        }
    }

    private void Drain()
    {
        while (true)
        {
            if (!_queued.Wait(s_linger))
            {
                lock (_lock)
                {
                    if (_items.Count == 0)
                    {
                        _drainers--; // a producer that comes after this starts a new drainer
                        return;
                    }
                }

                continue; // an item came as the wait ended: its count is there to take
            }

            Item item;
            lock (_lock)
            {
                item = _items.Dequeue(); // every count taken matches one item
            }

            try
            {
                item.Done.SetResult(item.Batch.AddAlignedIfNew(item.Id, item.Buffer.Span, item.Length));
            }
            catch (Exception e)
            {
                item.Done.SetException(e);
            }
            finally
            {
                _slots.Release();
            }
        }
    }

    private sealed class Item(BlobWriteBatch batch, ChunkId id, AlignedBuffer buffer, int length)
    {
        public BlobWriteBatch Batch { get; } = batch;

        public ChunkId Id { get; } = id;

        public AlignedBuffer Buffer { get; } = buffer;

        public int Length { get; } = length;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
