namespace NexNet.Storage;

/// <summary>
/// The part of one chunk a byte range covers: chunk <see cref="Index"/>, from <see cref="Offset"/> in it,
/// <see cref="Length"/> bytes, landing at <see cref="BufferOffset"/> in the caller's buffer. Every reader
/// and writer of fixed-size chunks splits its range the same way, with <see cref="Split"/>.
/// </summary>
public readonly record struct ChunkSpan(int Index, int Offset, int Length, int BufferOffset)
{
    /// <summary>
    /// Splits <paramref name="count"/> bytes from <paramref name="offset"/> of a file of
    /// <paramref name="fileLength"/> bytes into per-chunk spans, stopping at the file's end.
    /// </summary>
    public static IEnumerable<ChunkSpan> Split(int chunkSize, long fileLength, long offset, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int done = 0;
        while (done < count && offset < fileLength)
        {
            int index = (int)(offset / chunkSize);
            int inChunk = (int)(offset % chunkSize);
            int chunkLength = (int)Math.Min(chunkSize, fileLength - ((long)index * chunkSize));
            int n = Math.Min(count - done, chunkLength - inChunk);
            yield return new ChunkSpan(index, inChunk, n, done);
            done += n;
            offset += n;
        }
    }

    /// <summary>True when the span covers its whole chunk (of <paramref name="chunkLength"/> bytes).</summary>
    public bool IsWhole(int chunkLength) => Offset == 0 && Length == chunkLength;
}
