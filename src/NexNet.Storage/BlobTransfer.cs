using System.Buffers;
using System.Buffers.Binary;
using NexNet.Crypto;
using NexNet.Storage.Internal;

namespace NexNet.Storage;

/// <summary>
/// Moves sealed blobs between a store and a byte stream (a peer's stream): each blob as
/// <c>chunk id (32) | length (u32 big-endian) | sealed bytes</c>, until the stream ends. Receiving checks
/// every length before reading, checks every blob with the caller's rule, and stages what is new in one
/// batch (through the store's staging queue, so receiving goes on while the disk is busy) that is durable before <see cref="ReceiveAsync(Stream, BlobCheck, CancellationToken)"/> returns, so a sender that hears back knows its
/// blobs survive a crash.
/// </summary>
public sealed class BlobTransfer
{
    public const int FrameHeaderSize = ChunkId.Size + sizeof(uint);

    private readonly BlobStore _blobs;
    private readonly BlobIndex? _index;
    private readonly AlignedBufferPool _buffers;

    /// <summary>Transfers into and out of <paramref name="blobs"/>, recording received blobs in <paramref name="index"/>; <paramref name="maxBlobLength"/> is the largest sealed blob accepted (the volume's chunk size plus the header).</summary>
    public BlobTransfer(BlobStore blobs, BlobIndex? index, int maxBlobLength)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBlobLength, BlobFormat.HeaderSize + 1);
        _blobs = blobs;
        _index = index;
        MaxBlobLength = maxBlobLength;
        _buffers = blobs.Buffers(FrameHeaderSize + maxBlobLength);
    }

    public int MaxBlobLength { get; }

    /// <summary>
    /// Writes the blobs this store has among <paramref name="ids"/> to <paramref name="destination"/>, one
    /// read and one write each. Returns the ids sent (absent blobs are skipped).
    /// </summary>
    public async Task<IReadOnlyList<ChunkId>> SendAsync(IEnumerable<ChunkId> ids, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(destination);
        var sent = new List<ChunkId>();
        AlignedBuffer buffer = _buffers.Rent();
        try
        {
            foreach (ChunkId id in ids)
            {
                int length;
                try
                {
                    length = _blobs.ReadInto(id, buffer.Span.Slice(FrameHeaderSize, MaxBlobLength));
                }
                catch (BlobNotFoundException)
                {
                    continue;
                }

                WriteFrameHeader(buffer.Span, id, length);
                await destination.WriteAsync(buffer.Memory[..(FrameHeaderSize + length)], cancellationToken);
                sent.Add(id);
            }
        }
        finally
        {
            _buffers.Return(buffer);
        }

        return sent;
    }

    /// <summary>Writes one blob held in memory (a freshly sealed chunk) as a frame.</summary>
    public static async ValueTask SendAsync(ChunkId id, ReadOnlyMemory<byte> sealedBlob, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        byte[] header = ArrayPool<byte>.Shared.Rent(FrameHeaderSize);
        try
        {
            WriteFrameHeader(header, id, sealedBlob.Length);
            await destination.WriteAsync(header.AsMemory(0, FrameHeaderSize), cancellationToken);
            await destination.WriteAsync(sealedBlob, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <summary>
    /// Reads blobs until <paramref name="source"/> ends, checks each with <paramref name="check"/> (which
    /// throws <see cref="IntegrityException"/> to reject one; the whole transfer then fails and nothing of
    /// it is kept), stores the new ones durably, and returns every id received.
    /// </summary>
    public Task<IReadOnlyList<ChunkId>> ReceiveAsync(Stream source, BlobCheck check, CancellationToken cancellationToken = default) =>
        ReceiveAsync(source, check, beforeCommit: null, afterCommit: null, cancellationToken);

    /// <summary>
    /// <see cref="ReceiveAsync(Stream, BlobCheck, CancellationToken)"/>, calling <paramref name="beforeCommit"/>
    /// with the ids about to be stored just before they become durable and visible, and
    /// <paramref name="afterCommit"/> with the same ids once they are.
    /// </summary>
    public async Task<IReadOnlyList<ChunkId>> ReceiveAsync(Stream source, BlobCheck check, Action<IReadOnlyList<ChunkId>>? beforeCommit,
        Action<IReadOnlyList<ChunkId>>? afterCommit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(check);
        var received = new List<ChunkId>();
        var stored = new List<(ChunkId, long)>();
        var staging = new Queue<Staging>();
        using BlobWriteBatch batch = _blobs.BeginBatch();
        AlignedBuffer? buffer = null;
        try
        {
            while (true)
            {
                buffer ??= _buffers.Rent();
                int got = await source.ReadAtLeastAsync(buffer.Memory[..FrameHeaderSize], FrameHeaderSize, throwOnEndOfStream: false, cancellationToken);
                if (got == 0)
                {
                    break;
                }

                if (got < FrameHeaderSize)
                {
                    throw new InvalidDataException($"blob stream ended inside a frame header ({got} of {FrameHeaderSize} bytes)");
                }

                (ChunkId id, uint length) = ReadFrameHeader(buffer.Span);

                Memory<byte> blob = buffer.Memory[..(int)length];
                await source.ReadExactlyAsync(blob, cancellationToken);
                received.Add(id);
                if (!batch.TryReserve(id))
                {
                    continue;
                }

                check(id, blob.Span);
                staging.Enqueue(new Staging(id, length, await _blobs.Staging.EnqueueAsync(batch, id, buffer, (int)length, cancellationToken), buffer));
                buffer = null;
                await TakeStagedAsync(staging, stored, all: false);
            }

            await TakeStagedAsync(staging, stored, all: true);
        }
        finally
        {
            // On failure, the blobs still queued are staged or refused before the batch is disposed (which deletes what was staged).
            while (staging.TryDequeue(out Staging? left))
            {
                await ((Task)left.Staged).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                _buffers.Return(left.Buffer);
            }

            if (buffer is not null)
            {
                _buffers.Return(buffer);
            }
        }

        ChunkId[] storing = [.. stored.Select(s => s.Item1)];
        beforeCommit?.Invoke(storing);
        batch.Commit();
        _index?.RecordBlobs(stored, DateTimeOffset.UtcNow);
        afterCommit?.Invoke(storing);
        return received;
    }

    /// <summary>
    /// Reads the one blob <paramref name="id"/> from <paramref name="source"/> into memory and checks it with
    /// <paramref name="check"/>, without storing it: for a read on a disk with no room left for a copy.
    /// Returns the sealed bytes, or null when the stream ends at once (the sender had no copy after all).
    /// </summary>
    public async Task<byte[]?> ReceiveUnstoredAsync(Stream source, ChunkId id, BlobCheck check, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(check);
        byte[] header = new byte[FrameHeaderSize];
        int got = await source.ReadAtLeastAsync(header, FrameHeaderSize, throwOnEndOfStream: false, cancellationToken);
        if (got == 0)
        {
            return null;
        }

        if (got < FrameHeaderSize)
        {
            throw new InvalidDataException($"blob stream ended inside a frame header ({got} of {FrameHeaderSize} bytes)");
        }

        (ChunkId sent, uint length) = ReadFrameHeader(header);
        if (sent != id)
        {
            throw new IntegrityException($"sent chunk {sent} instead of {id}");
        }

        byte[] blob = new byte[length];
        await source.ReadExactlyAsync(blob, cancellationToken);
        check(id, blob);
        return blob;
    }

    /// <summary>A frame's chunk id and blob length, the length checked before anything is read.</summary>
    private (ChunkId Id, uint Length) ReadFrameHeader(ReadOnlySpan<byte> header)
    {
        ChunkId id = ChunkId.FromBytes(header[..ChunkId.Size]);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header.Slice(ChunkId.Size, sizeof(uint)));
        if (length <= BlobFormat.HeaderSize || length > MaxBlobLength)
        {
            throw new InvalidDataException($"blob {id} announced with {length} bytes; a blob here is {BlobFormat.HeaderSize + 1} to {MaxBlobLength} bytes");
        }

        return (id, length);
    }

    /// <summary>Takes the staged blobs at the head of the queue (every one, with <paramref name="all"/>): their buffers go back, the new ones count as stored.</summary>
    private async Task TakeStagedAsync(Queue<Staging> staging, List<(ChunkId, long)> stored, bool all)
    {
        while (staging.TryPeek(out Staging? next) && (all || next.Staged.IsCompleted))
        {
            staging.Dequeue();
            try
            {
                if (await next.Staged)
                {
                    stored.Add((next.Id, next.Length));
                }
            }
            finally
            {
                _buffers.Return(next.Buffer);
            }
        }
    }

    private sealed record Staging(ChunkId Id, long Length, Task<bool> Staged, AlignedBuffer Buffer);

    private static void WriteFrameHeader(Span<byte> destination, ChunkId id, int length)
    {
        id.WriteTo(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(ChunkId.Size, sizeof(uint)), (uint)length);
    }
}

/// <summary>Checks one received blob; throws <see cref="IntegrityException"/> to reject it.</summary>
public delegate void BlobCheck(ChunkId id, ReadOnlySpan<byte> sealedBlob);
