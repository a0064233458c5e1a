using System.Collections.Immutable;
using Google.Protobuf;

namespace NexNet.Node.Internal;

/// <summary>Between the wire's Entry (and packed id lists) and the Volume API's EntryInfo.</summary>
internal static class EntryCodec
{
    public static EntryInfo ToInfo(Entry entry, RecordVersion version)
    {
        EntryKind kind = KindOf(entry);
        int chunkSize = (int)Math.Max(1, entry.ChunkSize);
        ChunkList? content = kind != EntryKind.File ? null
            : entry.InlineData.Length > 0 ? ChunkList.Small(chunkSize, entry.InlineData.Memory)
            : new ChunkList(chunkSize, (long)entry.Size, UnpackIds(entry.Chunks.Span));
        return new EntryInfo(entry.Path, kind, (long)entry.Size, entry.Mode, FromNanoseconds(entry.MtimeNs), version, content,
            kind == EntryKind.Symlink ? entry.Target : null)
        {
            Properties = entry.Properties.Count == 0 ? null : new Dictionary<string, string>(entry.Properties, StringComparer.Ordinal),
        };
    }

    public static EntryKind KindOf(Entry entry) => entry.Kind switch
    {
        Entry.Types.Kind.Directory => EntryKind.Directory,
        Entry.Types.Kind.Symlink => EntryKind.Symlink,
        _ => EntryKind.File,
    };

    public static Entry ToEntry(EntryInfo info)
    {
        var entry = new Entry
        {
            Path = info.Path,
            Kind = info.Kind switch
            {
                EntryKind.Directory => Entry.Types.Kind.Directory,
                EntryKind.Symlink => Entry.Types.Kind.Symlink,
                _ => Entry.Types.Kind.File,
            },
            Size = (ulong)info.Size,
            Mode = info.Mode,
            MtimeNs = ToNanoseconds(info.ModifiedAt),
            Target = info.Target ?? "",
        };
        if (info.Properties is { Count: > 0 } properties)
        {
            foreach ((string name, string value) in properties)
            {
                entry.Properties[name] = value;
            }
        }

        if (info.Content is { } content)
        {
            entry.ChunkSize = (uint)content.ChunkSize;
            entry.Chunks = PackIds(content.Chunks);
            if (content.IsInline)
            {
                entry.InlineData = ByteString.CopyFrom(content.Inline.Span);
            }
        }

        return entry;
    }

    /// <summary>The stored chunks a live file entry uses, each once (none for tombstones, directories and links; holes are not stored).</summary>
    public static IReadOnlyList<ChunkId> ChunksOf(Entry entry) =>
        entry.Deleted || entry.Kind != Entry.Types.Kind.File ? [] : [.. UnpackIds(entry.Chunks.Span).Where(id => !id.IsHole).Distinct()];

    public static ByteString PackIds(IReadOnlyCollection<ChunkId> ids)
    {
        byte[] packed = new byte[ids.Count * ChunkId.Size];
        int at = 0;
        foreach (ChunkId id in ids)
        {
            id.WriteTo(packed.AsSpan(at, ChunkId.Size));
            at += ChunkId.Size;
        }

        return UnsafeByteOperations.UnsafeWrap(packed);
    }

    public static ImmutableArray<ChunkId> UnpackIds(ReadOnlySpan<byte> packed)
    {
        if (packed.Length % ChunkId.Size != 0)
        {
            throw new InvalidDataException($"a chunk id list of {packed.Length} bytes is not a whole number of ids");
        }

        var ids = ImmutableArray.CreateBuilder<ChunkId>(packed.Length / ChunkId.Size);
        for (int at = 0; at < packed.Length; at += ChunkId.Size)
        {
            ids.Add(ChunkId.FromBytes(packed.Slice(at, ChunkId.Size)));
        }

        return ids.MoveToImmutable();
    }

    public static RecordVersion BaseOf(Entry entry) =>
        entry.BaseClock == 0 || entry.BaseOrigin.Length != NodeId.Size
            ? RecordVersion.None
            : new RecordVersion((long)entry.BaseClock, NodeId.FromBytes(entry.BaseOrigin.Span));

    /// <summary>True when two entries hold different things (kind, bytes, link target or existence).</summary>
    public static bool ContentDiffers(Entry a, Entry b) =>
        a.Deleted != b.Deleted || a.Kind != b.Kind || a.Size != b.Size || a.Chunks != b.Chunks || a.InlineData != b.InlineData || a.Target != b.Target;

    private static long ToNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private static DateTimeOffset FromNanoseconds(long ns) => DateTimeOffset.UnixEpoch.AddTicks(ns / 100);
}
