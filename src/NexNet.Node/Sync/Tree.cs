using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;

namespace NexNet.Node.Sync;

/// <summary>
/// The namespace as this node holds it: one sealed record per path key, the newest version winning.
/// Every node keeps every record; a member (with the volume key) also opens them into its entry index,
/// tracks which chunks live files use, and resolves concurrent edits; a storage peer keeps and relays
/// records it cannot read. Every change, local or received, gets the next local sequence number, which
/// is what anti-entropy asks for.
/// </summary>
internal sealed partial class Tree : IDisposable
{
    private readonly NodeStore _meta;
    private readonly NodeId _self;
    private readonly HybridClock _clock;
    private readonly RecordSealer? _sealer;
    private readonly VolumeSigner? _signer;
    private readonly VolumeVerifier? _verifier;
    private readonly ILogger _log;
    private readonly Replicator? _replicator;
    private readonly RecordBroadcast? _broadcast;
    private readonly Lock _applyLock = new();
    private int _unverifiableLogged;

    /// <summary>
    /// The largest sealed record body a node makes, keeps or sends: one record, its signature and its
    /// envelope fit in one message frame (1 MiB) with room to spare. A file's chunk list is in its record,
    /// so this bounds a file at about 30,000 chunks (30 GiB of 1 MiB chunks).
    /// </summary>
    public const int MaxRecordBody = 960 * 1024;

    /// <summary>
    /// A member passes its <paramref name="sealer"/> and <paramref name="signer"/>; a storage peer passes
    /// only the volume's <paramref name="verifier"/> (null: it has none, and keeps no record at all).
    /// <paramref name="journalPath"/>: where deferred file commits are journaled (members only; null: every
    /// commit goes straight to the database). Deferred records, once in the database, wake the
    /// <paramref name="replicator"/> for their chunks (queued in the same transaction) and go to peers
    /// through <paramref name="broadcast"/>.
    /// </summary>
    public Tree(NodeStore meta, NodeId self, HybridClock clock, RecordSealer? sealer, VolumeSigner? signer, VolumeVerifier? verifier, ILogger log,
        string? journalPath = null, Replicator? replicator = null, RecordBroadcast? broadcast = null)
    {
        _replicator = replicator;
        _broadcast = broadcast;
        _meta = meta;
        _self = self;
        _clock = clock;
        _sealer = sealer;
        _signer = signer;
        _verifier = signer?.Verifier ?? verifier;
        _log = log;
        if ((sealer is null) != (signer is null))
        {
            throw new ArgumentException("a member has both the sealer and the signer; a storage peer neither");
        }

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
    /// <paramref name="alsoInTransaction"/>, as durable as <paramref name="durability"/> says. Returns the
    /// sealed record, for pushing to peers.
    /// </summary>
    public SealedRecord Commit(Entry entry, Action? alsoInTransaction = null, Durability durability = Durability.Full)
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
                using MetaTransaction tx = _meta.BeginTransaction(durability);
                _meta.PutRecord(stamped.Key, stamped.Version.Clock, stamped.Origin, stamped.Body, stamped.Signature!, KeepsReplaced(entry.Path, entry, stamped.Version));
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

    /// <summary>A local change with its new version, sealed; signed, except a deferred one until it reaches the database.</summary>
    private sealed record Stamped(Entry Entry, RecordVersion Version, byte[] Key, byte[] Origin, byte[] Body, byte[]? Signature)
    {
        public SealedRecord Record => Wire(Key, Version.Clock, Origin, Body, Signature);
    }

    private static SealedRecord Wire(byte[] key, long clock, byte[] origin, byte[] body, byte[]? signature) => new()
    {
        Key = UnsafeByteOperations.UnsafeWrap(key),
        Clock = (ulong)clock,
        Origin = UnsafeByteOperations.UnsafeWrap(origin),
        Body = UnsafeByteOperations.UnsafeWrap(body),
        Signature = signature is null ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(signature),
    };

    /// <summary>The volume key's signature over a record as it travels (members only).</summary>
    private byte[] Sign(byte[] key, long clock, byte[] origin, byte[] body) =>
        (_signer ?? throw new VolumeException(VolumeError.NotAMember, "this node has no volume key: it cannot sign records"))
            .Sign(SignatureDomain.Record, key, BigEndian.Int64(clock), origin, body);

    private bool HasValidSignature(byte[] key, long clock, byte[] origin, byte[] body, ReadOnlySpan<byte> signature) =>
        _verifier is not null && IsSignedByVolume(_verifier, key, clock, origin, body, signature);

    /// <summary>True when <paramref name="signature"/> is the volume key's over this record as it travels (the storage peer's check; fuzzed in the unit tests).</summary>
    internal static bool IsSignedByVolume(VolumeVerifier verifier, ReadOnlyMemory<byte> key, long clock, ReadOnlyMemory<byte> origin, ReadOnlyMemory<byte> body,
        ReadOnlySpan<byte> signature) =>
        verifier.Verify(SignatureDomain.Record, signature, key, BigEndian.Int64(clock), origin, body);

    /// <summary>
    /// Gives <paramref name="entry"/> a new version, records the version it replaces, seals it and, with
    /// <paramref name="sign"/>, signs it. Caller holds the apply lock.
    /// </summary>
    private Stamped Stamp(Entry entry, bool sign = true)
    {
        RecordSealer sealer = _sealer ?? throw new VolumeException(VolumeError.NotAMember, "this node has no volume key: it stores for others and cannot change the volume");
        long replaces = 0;
        if (Find(entry.Path) is { } current)
        {
            entry.BaseClock = (ulong)current.Version.Clock;
            entry.BaseOrigin = UnsafeByteOperations.UnsafeWrap(current.Version.Origin.ToBytes());
            replaces = current.Version.Clock;
        }

        // Past the version it replaces whatever the clock says (one accepted from up to the skew ahead, before a restart).
        var version = new RecordVersion(_clock.NextAfter(replaces), _self);
        byte[] key = sealer.RecordKey(entry.Path);
        byte[] origin = _self.ToBytes();
        byte[] body = sealer.Seal(AssociatedData(key, version.Clock, origin), entry.ToByteArray());
        if (body.Length > MaxRecordBody)
        {
            throw new VolumeException(VolumeError.TooLarge,
                $"{entry.Path} would need a record of {body.Length:N0} bytes, more than the {MaxRecordBody:N0} one may have (a file of more than about {MaxRecordBody / ChunkId.Size:N0} chunks)");
        }

        return new Stamped(entry, version, key, origin, body, sign ? Sign(key, version.Clock, origin, body) : null);
    }

    /// <summary>False on a storage peer without the volume public key: it keeps no record, so it must not move its sync cursors either.</summary>
    public bool KeepsRecords => _sealer is not null || _verifier is not null;

    private string ClockAhead(RecordVersion version) =>
        $"a record stamped {WallTimeText(version.Clock)}, more than {_clock.MaxSkew.TotalMinutes:F0} min ahead of this node's clock";

    private static string WallTimeText(long clock)
    {
        long ms = clock >> 16;
        return ms is > 0 and < 253402300800000 ? HybridClock.WallTime(clock).ToString("u", System.Globalization.CultureInfo.InvariantCulture) : $"clock {clock:x}";
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
            if (!(IsSnapshotPath(entry.Path) || VolumePath.Normalize(entry.Path) == entry.Path) || !CryptographicOperations.FixedTimeEquals(Sealer.RecordKey(entry.Path), key))
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
        _meta.Blobs.TouchAll(dropped, DateTimeOffset.UtcNow);
    }

    private void Reject(PeerConnection from, string what)
    {
        Interlocked.Increment(ref _rejected);
        Log.RecordRejected(_log, from.RemoteId.Abbreviated, what);
    }

    /// <summary>
    /// Signs the records this member holds that were stored before records were signed (node schema 5), in
    /// batches, each under a new sequence number so peers read them again. Returns how many.
    /// </summary>
    public int SignUnsigned()
    {
        int signed = 0;
        while (true)
        {
            lock (_applyLock)
            {
                IReadOnlyList<StoredRecord> unsigned = _meta.UnsignedRecords(500);
                if (unsigned.Count == 0)
                {
                    return signed;
                }

                using MetaTransaction tx = _meta.BeginTransaction();
                foreach (StoredRecord r in unsigned)
                {
                    _meta.SetRecordSignature(r.Key, r.Clock, r.Origin, Sign(r.Key, r.Clock, r.Origin, r.Body));
                }

                tx.Commit();
                signed += unsigned.Count;
            }
        }
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
            if (r.Body.Length > MaxRecordBody)
            {
                // Kept by an older build, which bounded nothing: skipped (the cursor still moves past it), never a reply too large to send.
                Log.RecordTooLargeToSend(_log, r.Seq, r.Body.Length);
                continue;
            }

            batch.Records.Add(Wire(r.Key, r.Clock, r.Origin, r.Body, r.Signature));
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
