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
internal sealed class Tree
{
    private readonly MetaStore _meta;
    private readonly NodeId _self;
    private readonly HybridClock _clock;
    private readonly RecordSealer? _sealer;
    private readonly ILogger _log;
    private readonly Lock _applyLock = new();

    public Tree(MetaStore meta, NodeId self, HybridClock clock, RecordSealer? sealer, ILogger log)
    {
        _meta = meta;
        _self = self;
        _clock = clock;
        _sealer = sealer;
        _log = log;
    }

    /// <summary>Raised (outside any lock) with each path whose winning record changed here.</summary>
    public event Action<string>? Changed;

    /// <summary>Records that failed authentication or were malformed, since start.</summary>
    public long RejectedRecords => Interlocked.Read(ref _rejected);

    private long _rejected;

    /// <summary>The current entry at a path, tombstones included (null when the path was never seen).</summary>
    public (Entry Entry, RecordVersion Version)? Find(string path)
    {
        long generation;
        lock (_cacheLock)
        {
            if (_found.TryGetValue(path, out (Entry, RecordVersion)? cached))
            {
                return cached;
            }

            generation = _generation;
        }

        EntryRow? row = _meta.GetEntry(IndexKey(path));
        (Entry, RecordVersion)? found = row is null ? null : Open(row);
        lock (_cacheLock)
        {
            if (generation == _generation)
            {
                CacheFound(path, found); // not changed meanwhile: what we read is still current (a change bumps the generation first)
            }
        }

        return found;
    }

    public IReadOnlyList<EntryInfo> Children(string directory) =>
        [.. _meta.ListChildren(IndexKey(directory)).Select(row =>
        {
            (Entry entry, RecordVersion version) = Open(row);
            return EntryCodec.ToInfo(entry, version);
        }).OrderBy(e => e.Path, StringComparer.Ordinal)];

    public bool HasChildren(string directory)
    {
        long generation;
        lock (_cacheLock)
        {
            if (_hasChildren.TryGetValue(directory, out bool cached))
            {
                return cached;
            }

            generation = _generation;
        }

        bool has = _meta.HasChildren(IndexKey(directory));
        lock (_cacheLock)
        {
            if (generation == _generation)
            {
                _hasChildren[directory] = has;
            }
        }

        return has;
    }

    /// <summary>
    /// Bound of the lookup cache (entries found or known absent, and whether directories have children),
    /// so a lookup — every stat, open and create of the mount — costs no SQLite query and no decryption
    /// when the path was seen. Dropped whole when full. Every change to a path drops its lines first and
    /// bumps a generation, so a lookup that read the store before a change cannot cache the old answer.
    /// </summary>
    private const long CacheBytes = 32L * 1024 * 1024;

    private readonly Lock _cacheLock = new();
    private readonly Dictionary<string, (Entry, RecordVersion)?> _found = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _hasChildren = new(StringComparer.Ordinal);
    private long _generation;
    private long _cachedBytes;

    private void Remember(string path, (Entry, RecordVersion) current)
    {
        lock (_cacheLock)
        {
            _generation++;
            CacheFound(path, current);
        }
    }

    /// <summary>Caches a lookup's answer, dropping the whole cache first when it would grow past its bound. Caller holds _cacheLock.</summary>
    private void CacheFound(string path, (Entry, RecordVersion)? found)
    {
        _cachedBytes += path.Length + (found?.Item1.CalculateSize() ?? 0);
        if (_cachedBytes > CacheBytes)
        {
            _found.Clear();
            _hasChildren.Clear();
            _cachedBytes = 0;
        }

        _found[path] = found;
    }

    private void Forget(string path)
    {
        lock (_cacheLock)
        {
            _generation++;
            _found.Remove(path);
            _hasChildren.Remove(VolumePath.Parent(path));
        }
    }

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
        RecordSealer sealer = _sealer ?? throw new VolumeException(VolumeError.NotAMember, "this node has no volume key: it stores for others and cannot change the volume");
        SealedRecord record;
        lock (_applyLock)
        {
            (Entry Entry, RecordVersion Version)? current = Find(entry.Path);
            if (current is { } c)
            {
                entry.BaseClock = (ulong)c.Version.Clock;
                entry.BaseOrigin = UnsafeByteOperations.UnsafeWrap(c.Version.Origin.ToBytes());
            }

            var version = new RecordVersion(_clock.Next(), _self);
            byte[] key = sealer.RecordKey(entry.Path);
            byte[] origin = _self.ToBytes();
            byte[] body = sealer.Seal(AssociatedData(key, version.Clock, origin), entry.ToByteArray());
            record = new SealedRecord { Key = UnsafeByteOperations.UnsafeWrap(key), Clock = (ulong)version.Clock, Origin = UnsafeByteOperations.UnsafeWrap(origin), Body = UnsafeByteOperations.UnsafeWrap(body) };
            using MetaTransaction tx = _meta.BeginTransaction();
            _meta.PutRecord(key, version.Clock, origin, body);
            StoreEntry(entry, version, body);
            alsoInTransaction?.Invoke();
            tx.Commit();
            Remember(entry.Path, (entry, version)); // under the apply lock: no peer's record can slip in between
        }

        Changed?.Invoke(entry.Path);
        return record;
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
        StoredRecord? existing = _meta.GetRecord(record.Key.Span);
        if (existing is not null && new RecordVersion(existing.Clock, NodeId.FromBytes(existing.Origin)) >= version)
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

        Entry entry;
        try
        {
            entry = Entry.Parser.ParseFrom(_sealer.Open(AssociatedData(key, version.Clock, origin), body));
            if (VolumePath.Normalize(entry.Path) != entry.Path || !CryptographicOperations.FixedTimeEquals(_sealer.RecordKey(entry.Path), key))
            {
                throw new IntegrityException("the record's path does not match its key");
            }
        }
        catch (Exception e) when (e is IntegrityException or InvalidProtocolBufferException or VolumeException)
        {
            Reject(from, $"a record that fails authentication ({e.Message})");
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
        StoreEntry(entry, version, body);
        changed.Add(entry.Path);
        return true;
    }

    private void StoreEntry(Entry entry, RecordVersion version, byte[] sealedBody)
    {
        Forget(entry.Path); // before the row changes, so no reader caches the old one
        string key = IndexKey(entry.Path);
        _meta.PutEntry(new EntryRow(key, IndexKey(VolumePath.Parent(entry.Path)), entry.Deleted, version.Clock, version.Origin.ToBytes(), sealedBody));
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
