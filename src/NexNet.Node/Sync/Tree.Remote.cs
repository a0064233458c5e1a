using System.Security.Cryptography;

namespace NexNet.Node.Sync;

/// <summary>Records from peers: each checked (signature, clock skew, body size) and kept if newer, conflicts noted, early ones kept aside until their time.</summary>
internal sealed partial class Tree
{
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
                    _meta.SetSyncCursor(peer, cursor);
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
        if (record.Key.Length != 32 || record.Origin.Length != NodeId.Size || record.Clock == 0 || record.Clock > long.MaxValue || record.Body.IsEmpty)
        {
            Reject(from, "a malformed record (bad key, origin or clock)");
            return false;
        }

        if (record.Body.Length > MaxRecordBody)
        {
            Reject(from, $"a record of {record.Body.Length:N0} bytes (at most {MaxRecordBody:N0})");
            return false;
        }

        var version = new RecordVersion((long)record.Clock, NodeId.FromBytes(record.Origin.Span));
        StoredRecord? stored = _meta.GetRecord(record.Key.Span);
        RecordVersion storedVersion = stored is null ? RecordVersion.None : new RecordVersion(stored.Clock, NodeId.FromBytes(stored.Origin));
        if (_sealer is null && stored is { Signature: null } && storedVersion > version)
        {
            // Kept before records were signed, so it may be a forgery stamped into the future: a signed record outranks it.
            storedVersion = RecordVersion.None;
        }
        if (storedVersion > version)
        {
            KeepAsHistory(record, from, version);
            return false;
        }

        byte[] key = record.Key.ToByteArray();
        byte[] origin = record.Origin.ToByteArray();
        byte[] body = record.Body.ToByteArray();
        if (_sealer is null)
        {
            // A storage peer cannot open the body: it keeps only what the volume key signed, so a holder of
            // the network key alone can neither plant records nor move a path's version.
            if (_verifier is null)
            {
                if (Interlocked.Exchange(ref _unverifiableLogged, 1) == 0)
                {
                    Log.NoVolumePublicKey(_log);
                }

                return false;
            }

            if (!HasValidSignature(key, version.Clock, origin, body, record.Signature.Span))
            {
                Reject(from, record.Signature.IsEmpty ? "an unsigned record" : "a record whose signature is not the volume's");
                return false;
            }

            if (storedVersion == version)
            {
                if (stored!.Signature is null && CryptographicOperations.FixedTimeEquals(stored.Body, body))
                {
                    _meta.SetRecordSignature(key, version.Clock, origin, record.Signature.ToByteArray()); // kept unsigned before: take the signature
                }

                return false;
            }

            if (!_clock.TryObserve(version.Clock))
            {
                KeepEarly(record, from, version);
                return false;
            }

            _meta.PutRecord(key, version.Clock, origin, body, record.Signature.ToByteArray());
            return true;
        }

        if (storedVersion == version)
        {
            return false;
        }

        if (OpenRecord(key, version.Clock, origin, body, out string? problem) is not { } entry)
        {
            Reject(from, $"a record that fails authentication ({problem})");
            return false;
        }

        // Observed only now that it authenticates, and only within the skew bound.
        if (!_clock.TryObserve(version.Clock))
        {
            KeepEarly(record, from, version);
            return false;
        }

        (Entry Entry, RecordVersion Version)? current = Find(entry.Path);
        if (current is { } mine && mine.Version.Origin == _self && EntryCodec.BaseOf(entry) != mine.Version
            && !mine.Entry.Deleted && mine.Entry.Kind == Entry.Types.Kind.File && EntryCodec.ContentDiffers(mine.Entry, entry))
        {
            // Our edit lost to one made without seeing it: keep ours beside the winner.
            conflicts.Add(EntryCodec.ToInfo(mine.Entry, mine.Version));
        }

        // A member signs what it keeps itself (cheaper than checking the sender's signature, and always
        // valid), so what it relays to storage peers verifies whoever sent it here.
        _meta.PutRecord(key, version.Clock, origin, body, Sign(key, version.Clock, origin, body), KeepsReplaced(entry.Path, entry, version));
        StoreEntry(entry, version, key, body);
        changed.Add(entry.Path);
        return true;
    }

    /// <summary>
    /// A record older than the one this node holds for its key (a peer handing on its history, or an edit
    /// that lost): kept as a version, ended by the next newer one held here, if it authenticates (a member
    /// opens it; a storage peer checks the volume's signature) and retention has not already passed for it.
    /// </summary>
    private void KeepAsHistory(SealedRecord record, PeerConnection from, RecordVersion version)
    {
        byte[] key = record.Key.ToByteArray();
        byte[] origin = record.Origin.ToByteArray();
        if (!KeepsRecords || _meta.HistoryRetention <= TimeSpan.Zero || _meta.HasVersion(key, version.Clock, origin))
        {
            return;
        }

        long until = _meta.NextVersionClock(key, version.Clock);
        if (until == long.MaxValue || until < _meta.HistoryCutoff(DateTimeOffset.UtcNow))
        {
            return; // pruned here already, by the rule every node follows
        }

        byte[] body = record.Body.ToByteArray();
        var kept = new StoredVersion(key, version.Clock, origin, body, until);
        if (_sealer is null)
        {
            if (HasValidSignature(key, version.Clock, origin, body, record.Signature.Span))
            {
                _meta.PutVersion(kept, record.Signature.ToByteArray(), parent: null, []);
            }
            else
            {
                Reject(from, "an old record whose signature is not the volume's");
            }

            return;
        }

        if (OpenRecord(key, version.Clock, origin, body, out string? problem) is not { } entry)
        {
            Reject(from, $"an old record that fails authentication ({problem})");
            return;
        }

        _meta.PutVersion(kept, Sign(key, version.Clock, origin, body), IndexKey(VolumePath.Parent(entry.Path)), EntryCodec.ChunksOf(entry));
    }

    /// <summary>
    /// A record that authenticates but is stamped past the skew bound is refused now but not forgotten
    /// (the sync cursor moves past it): it waits here, up to <see cref="MaxEarly"/> of them, and is applied
    /// once this node's clock has come within the bound of it (<see cref="ApplyEarly"/>), so a member whose
    /// clock ran ahead, or this node's own clock set back, loses no edit. Kept in memory only: a restart
    /// forgets them, and anti-entropy from a fresh cursor brings them again.
    /// </summary>
    private void KeepEarly(SealedRecord record, PeerConnection from, RecordVersion version)
    {
        Reject(from, ClockAhead(version));
        lock (_early)
        {
            if (_early.Count < MaxEarly)
            {
                _early.Add((record, from));
            }
        }
    }

    private const int MaxEarly = 1024;

    private readonly List<(SealedRecord Record, PeerConnection From)> _early = [];

    /// <summary>Applies the records kept aside for being early whose time has come (TreeSync calls it each sync interval). Returns the conflict copies to make.</summary>
    public IReadOnlyList<EntryInfo> ApplyEarly()
    {
        List<(SealedRecord Record, PeerConnection From)> due;
        lock (_early)
        {
            due = [.. _early.Where(e => _clock.IsAcceptable((long)e.Record.Clock))];
            _early.RemoveAll(e => due.Contains(e));
        }

        var conflicts = new List<EntryInfo>();
        foreach (var group in due.GroupBy(e => e.From))
        {
            conflicts.AddRange(Apply([.. group.Select(e => e.Record)], group.Key).Conflicts);
        }

        return conflicts;
    }
}
