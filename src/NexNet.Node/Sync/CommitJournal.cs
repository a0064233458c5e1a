using System.Buffers.Binary;
using Google.Protobuf;

namespace NexNet.Node.Sync;

/// <summary>
/// An append-only file of sealed file records that are committed but not yet in the metadata database.
/// One write per commit (no SQLite transaction) is what lets the mount answer a close in microseconds
/// and still keep every closed file through a killed process: the bytes are in the kernel when the
/// write returns. The tree moves the records into the database in batches and then empties the file;
/// on start it replays whatever a killed process left. Frames are a little-endian u32 length and a
/// <see cref="SealedRecord"/>; the records are sealed, so the file holds no plaintext, and replay
/// authenticates each one.
/// </summary>
internal sealed class CommitJournal : IDisposable
{
    private const int MaxFrame = 16 * 1024 * 1024;

    private readonly FileStream _file;

    private CommitJournal(FileStream file, string path)
    {
        _file = file;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Bytes in the file now.</summary>
    public long Length => _file.Length;

    public static CommitJournal Open(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read,
            BufferSize = 0, // every append reaches the kernel before it returns
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(path, options);
        file.Seek(0, SeekOrigin.End);
        return new CommitJournal(file, path);
    }

    /// <summary>Appends one record with a single write.</summary>
    public void Append(SealedRecord record)
    {
        int size = record.CalculateSize();
        byte[] frame = new byte[4 + size];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)size);
        record.WriteTo(frame.AsSpan(4));
        _file.Write(frame);
    }

    /// <summary>
    /// Every whole record in the file, in order. A frame cut short (a process killed mid-write: that
    /// commit was never acknowledged) or one that does not parse ends the list; <paramref name="problem"/>
    /// then says what was left over.
    /// </summary>
    public IReadOnlyList<SealedRecord> ReadAll(out string? problem)
    {
        problem = null;
        var records = new List<SealedRecord>();
        long length = _file.Length;
        long offset = 0;
        byte[] header = new byte[4];
        while (offset < length)
        {
            if (length - offset < 4 || RandomAccess.Read(_file.SafeFileHandle, header, offset) < 4)
            {
                problem = $"{length - offset} bytes of a cut-off frame at the end";
                break;
            }

            uint size = BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (size > MaxFrame || offset + 4 + size > length)
            {
                problem = $"a frame of {size} bytes at offset {offset} runs past the end or is too large";
                break;
            }

            byte[] payload = new byte[size];
            RandomAccess.Read(_file.SafeFileHandle, payload, offset + 4);
            try
            {
                records.Add(SealedRecord.Parser.ParseFrom(payload));
            }
            catch (InvalidProtocolBufferException e)
            {
                problem = $"the frame at offset {offset} does not parse ({e.Message})";
                break;
            }

            offset += 4 + size;
        }

        return records;
    }

    /// <summary>Empties the file (its records are in the database now).</summary>
    public void Clear()
    {
        _file.SetLength(0);
        _file.Seek(0, SeekOrigin.Begin);
    }

    public void Dispose() => _file.Dispose();
}
