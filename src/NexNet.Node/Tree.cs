using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using NexNet.Crypto;
using NexNet.Node.Internal;
using NexNet.Node.Protocol;
using NexNet.P2P;
using NexNet.Storage;

namespace NexNet.Node;

/// <summary>
/// The namespace as this node holds it: one sealed record per path key, the newest version winning.
/// Every node keeps every record; a member (with the volume key) also opens them into its entry index,
/// tracks which chunks live files use, and resolves concurrent edits; a storage peer keeps and relays
/// records it cannot read. Every change, local or received, gets the next local sequence number, which
/// is what anti-entropy asks for.
/// </summary>
internal sealed partial class Tree : IDisposable
{
    private readonly MetaStore _meta;
    private readonly NodeId _self;
    private readonly HybridClock _clock;
    private readonly RecordSealer? _sealer;
    private readonly ILogger _log;
    private readonly Lock _applyLock = new();

    /// <summary><paramref name="journalPath"/>: where deferred file commits are journaled (members only; null: every commit goes straight to the database).</summary>
    public Tree(MetaStore meta, NodeId self, HybridClock clock, RecordSealer? sealer, ILogger log, string? journalPath = null)
    {
        _meta = meta;
        _self = self;
        _clock = clock;
        _sealer = sealer;
        _log = log;
        if (sealer is not null && journalPath is not null)
        {
            _journal = CommitJournal.Open(journalPath);
            _applier = new Thread(RunApplier) { IsBackground = true, Name = "tree-applier" };
            _applier.Start();
        }
    }

    /// <summary>Raised (outside any lock) with each path whose winning record changed here.</summary>
    public event Action<string>? Changed;

    /// <summary>Records that failed authentication or were malformed, since start.</summary>
    public long RejectedRecords => Interlocked.Read(ref _rejected);

    private long _rejected;

    /// <summary>The current entry at a path, tombstones included (null when the path was never seen).</summary>
    public (Entry Entry, RecordVersion Version)? Find(string path)
    {
        if (FindPending(path) is { } pending)
        {
            return pending;
        }

        if (_cache.TryFind(path, out (Entry, RecordVersion)? known, out long generation))
        {
            return known;
        }

        EntryRow? row = _meta.GetEntry(IndexKey(path));
        (Entry, RecordVersion)? found = row is null ? null : Open(row);
        _cache.OfferFound(path, found, generation);
        return found;
    }

    public IReadOnlyList<EntryInfo> Children(string directory)
    {
        ApplyPending();
        return [.. _meta.ListChildren(IndexKey(directory)).Select(row =>
        {
            (Entry entry, RecordVersion version) = Open(row);
            return EntryCodec.ToInfo(entry, version);
        }).OrderBy(e => e.Path, StringComparer.Ordinal)];
    }

    /// <summary>The names and kinds of the live entries in <paramref name="directory"/>, read from their summaries (no bodies read or opened): what readdir needs.</summary>
    public IReadOnlyList<(string Name, EntryKind Kind)> ChildKinds(string directory)
    {
        ApplyPending();
        return [.. _meta.ListChildSummaries(IndexKey(directory)).Select(row =>
        {
            byte[] key = Convert.FromHexString(row.Path);
            Entry entry = Entry.Parser.ParseFrom(row.IsSummary
                ? Sealer.Open(SummaryData(key, row.Clock, row.Origin), row.Sealed)
                : Sealer.Open(AssociatedData(key, row.Clock, row.Origin), row.Sealed));
            return (VolumePath.Name(entry.Path), EntryCodec.KindOf(entry));
        })];
    }

    public bool HasChildren(string directory)
    {
        if (HasPendingChildren(directory))
        {
            return true;
        }

        if (_cache.TryHasChildren(directory, out bool known, out long generation))
        {
            return known;
        }

        bool has = _meta.HasChildren(IndexKey(directory));
        _cache.OfferHasChildren(directory, has, generation);
        return has;
    }

    /// <summary>
    /// Bound of the lookup cache, so a lookup — every stat, open and create of the mount — costs no SQLite
    /// query and no decryption when the path was seen.
    /// </summary>
    private const long CacheBytes = 32L * 1024 * 1024;

    private readonly TreeCache _cache = new(CacheBytes);

    /// <summary>
    /// A path's name in the local entry index: its record key (a keyed hash) in hex. The index holds the
    /// sealed record bodies, not plaintext, so neither names nor contents of small entries sit readable
    /// in the data directory; a lookup costs one HMAC and one record opening.
    /// </summary>
    private string IndexKey(string path) => Convert.ToHexStringLower(Sealer.RecordKey(path));

    private RecordSealer Sealer => _sealer ?? throw new VolumeException(VolumeError.NotAMember, "this node has no volume key: it stores for others and cannot read the volume");

    private (Entry, RecordVersion) Open(EntryRow row)
    {
        byte[] key = Convert.FromHexString(row.Path);
        Entry entry = Entry.Parser.ParseFrom(Sealer.Open(AssociatedData(key, row.Clock, row.Origin), row.Body));
        return (entry, new RecordVersion(row.Clock, NodeId.FromBytes(row.Origin)));
    }

    /// <summary>
    /// Makes a local change: stamps <paramref name="entry"/> with a new version (recording the version it
    /// replaces), seals it and stores it with its chunk references, all in one transaction together with
    /// <paramref name="alsoInTransaction"/>. Returns the sealed record, for pushing to peers.
    /// </summary>
    public SealedRecord Commit(Entry entry, Action? alsoInTransaction = null)
    {
        SealedRecord record;
        lock (_applyLock)
        {
            ApplyPending(); // the database must hold every earlier change before this one lands beside them
            bool freshDirectory = entry.Kind == Entry.Types.Kind.Directory && !entry.Deleted
                && Find(entry.Path) is not { Entry.Deleted: false } && !HasChildren(entry.Path);
            Stamped stamped = Stamp(entry);
            record = stamped.Record;
            try
            {
                using MetaTransaction tx = _meta.BeginTransaction();
                _meta.PutRecord(stamped.Key, stamped.Version.Clock, stamped.Origin, stamped.Body);
                StoreEntry(entry, stamped.Version, stamped.Key, stamped.Body);
                alsoInTransaction?.Invoke();
                tx.Commit();
            }
            catch
            {
                _cache.Clear(); // it already holds the change that did not happen
                throw;
            }

            if (freshDirectory)
            {
                _cache.MarkComplete(entry.Path);
            }
        }

        Changed?.Invoke(entry.Path);
        return record;
    }

    /// <summary>A local change with its new version, sealed.</summary>
    private sealed record Stamped(Entry Entry, RecordVersion Version, byte[] Key, byte[] Origin, byte[] Body)
    {
        public SealedRecord Record => new()
        {
            Key = UnsafeByteOperations.UnsafeWrap(Key),
            Clock = (ulong)Version.Clock,
            Origin = UnsafeByteOperations.UnsafeWrap(Origin),
            Body = UnsafeByteOperations.UnsafeWrap(Body),
        };
    }

    /// <summary>Gives <paramref name="entry"/> a new version, records the version it replaces, and seals it. Caller holds the apply lock.</summary>
    private Stamped Stamp(Entry entry)
    {
        RecordSealer sealer = _sealer ?? throw new VolumeException(VolumeError.NotAMember, "this node has no volume key: it stores for others and cannot change the volume");
        if (Find(entry.Path) is { } current)
        {
            entry.BaseClock = (ulong)current.Version.Clock;
            entry.BaseOrigin = UnsafeByteOperations.UnsafeWrap(current.Version.Origin.ToBytes());
        }

        var version = new RecordVersion(_clock.Next(), _self);
        byte[] key = sealer.RecordKey(entry.Path);
        byte[] origin = _self.ToBytes();
        return new Stamped(entry, version, key, origin, sealer.Seal(AssociatedData(key, version.Clock, origin), entry.ToByteArray()));
    }

    /// <summary>
    /// Applies records from a peer in one transaction: each is kept if it is newer than what this node
    /// has for its key. With <paramref name="cursorOf"/>, the peer's sequence cursor moves to
    /// <paramref name="cursor"/> in the same transaction. Returns the conflict copies this node must make
    /// (its own losing edits) and how many records were new.
    /// </summary>
    public (int Applied, IReadOnlyList<EntryInfo> Conflicts) Apply(IEnumerable<SealedRecord> records, PeerConnection from, NodeId? cursorOf = null, long cursor = 0)
    {
        var changed = new List<string>();
        var conflicts = new List<EntryInfo>();
        int applied = 0;
        lock (_applyLock)
        {
            ApplyPending(); // a peer's record must be weighed against every local change
            try
            {
                using MetaTransaction tx = _meta.BeginTransaction();
                foreach (SealedRecord record in records)
                {
                    if (TryApply(record, from, changed, conflicts))
                    {
                        applied++;
                    }
                }

                if (cursorOf is { } peer)
                {
                    _meta.SetSyncCursor(peer.ToBytes(), cursor);
                }

                tx.Commit();
            }
            catch
            {
                _cache.Clear(); // it already holds changes that did not happen
                throw;
            }
        }

        foreach (string path in changed)
        {
            Changed?.Invoke(path);
        }

        return (applied, conflicts);
    }

    private bool TryApply(SealedRecord record, PeerConnection from, List<string> changed, List<EntryInfo> conflicts)
    {
        if (record.Key.Length != 32 || record.Origin.Length != NodeId.Size || record.Clock == 0 || record.Body.IsEmpty)
        {
            Reject(from, "a malformed record (bad key, origin or clock)");
            return false;
        }

        var version = new RecordVersion((long)record.Clock, NodeId.FromBytes(record.Origin.Span));
        _clock.Observe(version.Clock);
        if (StoredIsAtLeast(record.Key.Span, version))
        {
            return false;
        }

        byte[] key = record.Key.ToByteArray();
        byte[] origin = record.Origin.ToByteArray();
        byte[] body = record.Body.ToByteArray();
        if (_sealer is null)
        {
            _meta.PutRecord(key, version.Clock, origin, body);
            return true;
        }

        if (OpenRecord(key, version.Clock, origin, body, out string? problem) is not { } entry)
        {
            Reject(from, $"a record that fails authentication ({problem})");
            return false;
        }

        (Entry Entry, RecordVersion Version)? current = Find(entry.Path);
        if (current is { } mine && mine.Version.Origin == _self && EntryCodec.BaseOf(entry) != mine.Version
            && !mine.Entry.Deleted && mine.Entry.Kind == Entry.Types.Kind.File && EntryCodec.ContentDiffers(mine.Entry, entry))
        {
            // Our edit lost to one made without seeing it: keep ours beside the winner.
            conflicts.Add(EntryCodec.ToInfo(mine.Entry, mine.Version));
        }

        _meta.PutRecord(key, version.Clock, origin, body);
        StoreEntry(entry, version, key, body);
        changed.Add(entry.Path);
        return true;
    }

    /// <summary>
    /// Opens a sealed record and checks that its path is the one its key names; null (with what failed)
    /// when it does not authenticate, does not parse, or claims another path.
    /// </summary>
    private Entry? OpenRecord(byte[] key, long clock, byte[] origin, byte[] body, out string? problem)
    {
        problem = null;
        try
        {
            Entry entry = Entry.Parser.ParseFrom(Sealer.Open(AssociatedData(key, clock, origin), body));
            if (VolumePath.Normalize(entry.Path) != entry.Path || !CryptographicOperations.FixedTimeEquals(Sealer.RecordKey(entry.Path), key))
            {
                throw new IntegrityException("the record's path does not match its key");
            }

            return entry;
        }
        catch (Exception e) when (e is IntegrityException or InvalidProtocolBufferException or VolumeException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>True when the database already holds this version of the record under <paramref name="key"/>, or a newer one.</summary>
    private bool StoredIsAtLeast(ReadOnlySpan<byte> key, RecordVersion version) =>
        _meta.GetRecord(key) is { } existing && new RecordVersion(existing.Clock, NodeId.FromBytes(existing.Origin)) >= version;

    /// <summary>Indexes an entry whose record (sealed body <paramref name="sealedBody"/> under <paramref name="recordKey"/>) was just stored.</summary>
    private void StoreEntry(Entry entry, RecordVersion version, byte[] recordKey, byte[] sealedBody)
    {
        _cache.Stored(entry.Path, (entry, version)); // before the row changes, so no reader caches the old one
        string key = Convert.ToHexStringLower(recordKey);
        byte[] origin = version.Origin.ToBytes();
        byte[]? summary = entry.Deleted ? null
            : Sealer.Seal(SummaryData(recordKey, version.Clock, origin), new Entry { Path = entry.Path, Kind = entry.Kind }.ToByteArray());
        _meta.PutEntry(new EntryRow(key, IndexKey(VolumePath.Parent(entry.Path)), entry.Deleted, version.Clock, origin, sealedBody, summary));
        IReadOnlyList<ChunkId> dropped = _meta.SetChunkRefs(key, EntryCodec.ChunksOf(entry));
        // A chunk just let go of gets the full grace period before collection (a concurrent writer elsewhere may still use it).
        _meta.TouchAll(dropped, DateTimeOffset.UtcNow);
    }

    private void Reject(PeerConnection from, string what)
    {
        Interlocked.Increment(ref _rejected);
        Log.RecordRejected(_log, from.RemoteId.Abbreviated, what);
    }

    /// <summary>Which records <paramref name="after"/> to answer a peer's anti-entropy request with.</summary>
    public RecordBatch RecordsAfter(long after, int maxCount = 1000, long maxBytes = 512 * 1024)
    {
        ApplyPending();
        IReadOnlyList<StoredRecord> stored = _meta.RecordsAfter(after, maxCount, maxBytes);
        long last = stored.Count > 0 ? stored[^1].Seq : after;
        var batch = new RecordBatch { LastSeq = (ulong)last, More = stored.Count > 0 && _meta.LastRecordSeq() > last };
        foreach (StoredRecord r in stored)
        {
            batch.Records.Add(new SealedRecord
            {
                Key = UnsafeByteOperations.UnsafeWrap(r.Key),
                Clock = (ulong)r.Clock,
                Origin = UnsafeByteOperations.UnsafeWrap(r.Origin),
                Body = UnsafeByteOperations.UnsafeWrap(r.Body),
            });
        }

        return batch;
    }

    /// <summary>Associated data of an entry's local summary: a record's, plus a marker, so a summary can never pass for a record body.</summary>
    private static byte[] SummaryData(byte[] key, long clock, byte[] origin) => [.. AssociatedData(key, clock, origin), .. "summary"u8];

    /// <summary>Associated data of a sealed record: key | clock (u64 BE) | origin, so a body cannot move to another key or version.</summary>
    private static byte[] AssociatedData(byte[] key, long clock, byte[] origin)
    {
        byte[] ad = new byte[key.Length + 8 + origin.Length];
        key.CopyTo(ad, 0);
        BinaryPrimitives.WriteInt64BigEndian(ad.AsSpan(key.Length), clock);
        origin.CopyTo(ad, key.Length + 8);
        return ad;
    }
}
