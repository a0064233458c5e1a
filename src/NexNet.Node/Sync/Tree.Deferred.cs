namespace NexNet.Node.Sync;

/// <summary>
/// Deferred file commits: the mount commits a file at every close, and a SQLite transaction per close
/// (record, index row, chunk references, replication queue: some ten pages into the WAL) was most of
/// what a small file cost. A deferred commit instead appends the sealed record to the
/// <see cref="CommitJournal"/> (one write, so it survives a killed process at once) and to an in-memory
/// overlay that every lookup sees first; a background thread moves the records into the database in
/// batches, one transaction each. Anything that reads the database as a whole (listing, peers' sync,
/// a peer's records, any other local change, collection, fsync) applies the pending records first, so
/// only single-path lookups ever see the overlay.
/// </summary>
internal sealed partial class Tree
{
    /// <summary>A journal larger than this is applied at once by the committer itself, so it cannot grow without bound under a steady load.</summary>
    private const long JournalLimit = 64L * 1024 * 1024;

    private static readonly TimeSpan s_batchDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    private readonly CommitJournal? _journal;
    private readonly Thread? _applier;
    private readonly Lock _pendingLock = new();
    private readonly Lock _drainLock = new();
    private readonly Dictionary<string, (Entry, RecordVersion)> _pendingByPath = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _pendingChildren = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private List<Stamped> _pending = [];
    private int _wakeRequested;
    private volatile bool _stopping;

    /// <summary>Holds the background applier (tests: a crash image with commits only in the journal). Explicit <see cref="ApplyPending"/> calls still apply.</summary>
    internal bool ApplierPaused { get; set; }

    /// <summary>
    /// A local file change that the caller needs to survive a killed process but not yet a power cut
    /// (the mount's close; fsync calls <see cref="ApplyPending"/> and flushes). Visible to lookups at
    /// once; in the database soon after (its chunks queued for replication in the same transaction),
    /// signed then, and pushed to peers. Signing there, not at the commit, keeps the signature (32 µs,
    /// most of a small file's commit) off the mount's path: a 13,000-file `tar x` took 10.0–11.9 s signing
    /// at each close against 8.4–9.7 s without a signature. Returns the sealed record only when it was
    /// committed at once (no journal): the caller pushes that one.
    /// </summary>
    public SealedRecord? CommitDeferred(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_journal is null)
        {
            return Commit(entry, () => QueueChunks(entry), Durability.Relaxed);
        }

        bool applyNow;
        Stamped stamped;
        lock (_applyLock)
        {
            stamped = Stamp(entry, sign: false);
            lock (_pendingLock)
            {
                _journal.Append(stamped.Record); // an exception (disk full) leaves nothing pending
                _pending.Add(stamped);
                if (_pendingByPath.TryAdd(entry.Path, (entry, stamped.Version)))
                {
                    string parent = VolumePath.Parent(entry.Path);
                    _pendingChildren[parent] = _pendingChildren.GetValueOrDefault(parent) + 1;
                }
                else
                {
                    _pendingByPath[entry.Path] = (entry, stamped.Version);
                }

                applyNow = _journal.Length > JournalLimit;
            }
        }

        if (applyNow)
        {
            ApplyPending();
        }
        else if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Release();
        }

        Changed?.Invoke(entry.Path);
        return null;
    }

    /// <summary>Moves every pending deferred record into the database now (one transaction), then empties the journal if nothing new came meanwhile.</summary>
    public void ApplyPending()
    {
        if (_journal is null)
        {
            return;
        }

        var applied = new List<SealedRecord>();
        lock (_drainLock)
        {
            List<Stamped> batch;
            lock (_pendingLock)
            {
                if (_pending.Count == 0)
                {
                    return;
                }

                batch = _pending;
                _pending = [];
            }

            // Signed before the transaction: the database's lock, which every lookup of the mount needs, is
            // held only for the writes (signing inside it stalled a tar x to a third of its speed).
            byte[][] signatures = [.. batch.Select(item => item.Signature ?? Sign(item.Key, item.Version.Clock, item.Origin, item.Body))];
            try
            {
                using MetaTransaction tx = _meta.BeginTransaction(Durability.Relaxed);
                for (int i = 0; i < batch.Count; i++)
                {
                    // Newer than what the database has: every other change there applied the pending ones first.
                    Stamped item = batch[i];
                    Store(item.Entry, item.Version, item.Key, item.Origin, item.Body, signatures[i]);
                    applied.Add(Wire(item.Key, item.Version.Clock, item.Origin, item.Body, signatures[i]));
                }

                tx.Commit();
            }
            catch
            {
                _cache.Clear(); // it already holds changes that did not happen (the overlay still has them)
                lock (_pendingLock)
                {
                    batch.AddRange(_pending); // back in front, in order: nothing is lost, the journal still has them
                    _pending = batch;
                }

                throw;
            }

            lock (_pendingLock)
            {
                foreach (Stamped item in batch)
                {
                    string path = item.Entry.Path;
                    if (_pendingByPath.TryGetValue(path, out (Entry, RecordVersion Version) current) && current.Version == item.Version)
                    {
                        _pendingByPath.Remove(path); // the cache has it now (StoreEntry), or the database does
                        string parent = VolumePath.Parent(path);
                        if (--_pendingChildren[parent] == 0)
                        {
                            _pendingChildren.Remove(parent);
                        }
                    }
                }

                if (_pending.Count == 0)
                {
                    _journal.Clear();
                }
            }
        }

        if (!_stopping)
        {
            // At shutdown the replicator is gone; the rows are stored and wait for the next start (and peers' sync).
            _replicator?.Kick();
            _broadcast?.Push(applied);
        }
    }

    /// <summary>
    /// Applies what a killed process left in the journal (records newer than the database's), then empties
    /// it. Call once at start, before peers are served.
    /// </summary>
    public int ReplayJournal()
    {
        if (_journal is null || _sealer is null)
        {
            return 0;
        }

        IReadOnlyList<SealedRecord> records = _journal.ReadAll(out string? problem);
        if (problem is not null)
        {
            Log.JournalTail(_log, _journal.Path, problem);
        }

        int replayed = 0;
        using (MetaTransaction tx = _meta.BeginTransaction(Durability.Relaxed)) // ended (the lock given back) before the journal is cleared
        {
            foreach (SealedRecord record in records)
            {
                byte[] key = record.Key.ToByteArray();
                byte[] origin = record.Origin.ToByteArray();
                byte[] body = record.Body.ToByteArray();
                if (OpenRecord(key, (long)record.Clock, origin, body, out string? rejected) is not { } entry)
                {
                    Log.JournalRecordRejected(_log, _journal.Path, rejected!);
                    continue;
                }

                var version = new RecordVersion((long)record.Clock, NodeId.FromBytes(origin));
                _clock.TryObserve(version.Clock); // this node's own stamps: at most as far ahead as its clock was
                byte[] signature = record.Signature.Length == VolumeVerifier.SignatureSize ? record.Signature.ToByteArray() : Sign(key, version.Clock, origin, body);
                if (StoreIfNewer(entry, version, key, origin, body, signature))
                {
                    replayed++;
                }
            }

            tx.Commit();
        }

        _journal.Clear();
        if (records.Count > 0)
        {
            Log.JournalReplayed(_log, replayed, records.Count);
        }

        return replayed;
    }

    /// <summary>Stores a deferred record unless the database already has this version or a newer one. Inside a transaction.</summary>
    private bool StoreIfNewer(Entry entry, RecordVersion version, byte[] key, byte[] origin, byte[] body, byte[] signature)
    {
        if (StoredIsAtLeast(key, version))
        {
            return false;
        }

        Store(entry, version, key, origin, body, signature);
        return true;
    }

    private void Store(Entry entry, RecordVersion version, byte[] key, byte[] origin, byte[] body, byte[] signature)
    {
        _meta.PutRecord(key, version.Clock, origin, body, signature, KeepsReplaced(entry.Path, entry, version));
        StoreEntry(entry, version, key, body);
        QueueChunks(entry);
    }

    /// <summary>Queues a deferred file's chunks for their owners, in the transaction that stores its record.</summary>
    private void QueueChunks(Entry entry)
    {
        if (EntryCodec.ToInfo(entry, RecordVersion.None).Content is { } content)
        {
            _meta.EnqueueFile(content, DateTimeOffset.UtcNow);
        }
    }

    private (Entry Entry, RecordVersion Version)? FindPending(string path)
    {
        if (_journal is null)
        {
            return null;
        }

        lock (_pendingLock)
        {
            return _pendingByPath.TryGetValue(path, out (Entry, RecordVersion) found) ? found : null;
        }
    }

    private bool HasPendingChildren(string directory)
    {
        if (_journal is null)
        {
            return false;
        }

        lock (_pendingLock)
        {
            return _pendingChildren.ContainsKey(directory);
        }
    }

    private void RunApplier()
    {
        while (!_stopping)
        {
            _wake.Wait();
            Volatile.Write(ref _wakeRequested, 0);
            if (_stopping)
            {
                break;
            }

            Thread.Sleep(s_batchDelay); // let a burst of closes gather into one transaction
            if (ApplierPaused)
            {
                continue;
            }

            try
            {
                ApplyPending();
            }
#pragma warning disable CA1031 // a background thread: anything it does not catch ends the process, and the journal keeps the commits
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.DeferredApplyFailed(_log, e.Message, s_retryDelay.TotalSeconds);
                _wake.Wait(s_retryDelay);
                Interlocked.Exchange(ref _wakeRequested, 1);
                _wake.Release();
            }
        }
    }

    /// <summary>Stops the applier and applies what is pending; if that fails the journal keeps it for the next start.</summary>
    public void Dispose()
    {
        if (_journal is null)
        {
            return;
        }

        _stopping = true;
        _wake.Release();
        _applier!.Join();
        try
        {
            ApplyPending();
        }
        catch (Exception e) when (e is MetaDatabaseException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            Log.DeferredApplyFailed(_log, e.Message, 0);
        }

        _journal.Dispose();
        _wake.Dispose();
    }
}
