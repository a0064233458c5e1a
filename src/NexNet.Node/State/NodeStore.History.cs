using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>
/// History: the versions newer records replaced, and the chunk references that keep their chunks. A
/// version's references sit in chunk_refs under its tag (the path key, '@', clock, '.', origin), which no
/// live path's key (hex) can be, so collection keeps a version's chunks exactly as long as the version.
/// </summary>
internal sealed partial class NodeStore
{
    /// <summary>A version's tag in chunk_refs, in SQL over an entry row e (its path is the key in hex): see <see cref="TagOf"/>.</summary>
    private const string EntryVersionTag = "e.path || '@' || e.clock || '.' || lower(hex(e.origin))";

    /// <summary>Matches chunk_refs rows that are a version's (the tag has '@'; a live path's hex key never has).</summary>
    private const string IsVersionRef = "path GLOB '*@*'";

    /// <summary>SQL true when no live entry references the chunk <paramref name="chunk"/> (an SQL expression) names.</summary>
    private static string NoLiveRef(string chunk) => $"NOT EXISTS (SELECT 1 FROM chunk_refs l WHERE l.chunk = {chunk} AND NOT l.{IsVersionRef})";

    /// <summary>SQL true when the chunk <paramref name="chunk"/> names waits for no replication.</summary>
    private static string NotQueued(string chunk) => $"NOT EXISTS (SELECT 1 FROM replication q WHERE q.chunk = {chunk})";

    /// <summary>How long a replaced version is kept; zero keeps no history (a replaced record is simply gone).</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(30);

    private bool KeepsHistory => HistoryRetention > TimeSpan.Zero;

    /// <summary>The clock before which a version's replacement must lie for it to be pruned now.</summary>
    public long HistoryCutoff(DateTimeOffset now) => HybridClock.AtWallTime(now - HistoryRetention);

    /// <summary>
    /// Moves the record stored under <paramref name="key"/>, unless it is this version, to history, replaced
    /// at <paramref name="clock"/>, and keeps its chunk references under its tag. Inside PutRecord's transaction.
    /// </summary>
    private void KeepReplacedVersion(byte[] key, long clock, byte[] origin)
    {
        if (!KeepsHistory)
        {
            return;
        }

        SqliteCommand version = _db.Command("""
            INSERT OR IGNORE INTO versions (key, clock, origin, body, sig, until, parent, seq)
            SELECT r.key, r.clock, r.origin, r.body, r.sig, $clock, (SELECT parent FROM entries WHERE path = lower(hex(r.key))), r.seq
            FROM records r WHERE r.key = $key AND NOT (r.clock = $clock AND r.origin = $origin)
            """);
        version.Parameters.AddWithValue("$key", key);
        version.Parameters.AddWithValue("$clock", clock);
        version.Parameters.AddWithValue("$origin", origin);
        if (version.ExecuteNonQuery() == 0)
        {
            return;
        }

        SqliteCommand refs = _db.Command($"""
            INSERT OR IGNORE INTO chunk_refs (chunk, path)
            SELECT c.chunk, {EntryVersionTag}
            FROM entries e JOIN chunk_refs c ON c.path = e.path
            WHERE e.path = lower(hex($key)) AND NOT (e.clock = $clock AND e.origin = $origin)
            """);
        refs.Parameters.AddWithValue("$key", key);
        refs.Parameters.AddWithValue("$clock", clock);
        refs.Parameters.AddWithValue("$origin", origin);
        refs.ExecuteNonQuery();
    }

    /// <summary>True when history holds this version of the record under <paramref name="key"/>.</summary>
    public bool HasVersion(byte[] key, long clock, byte[] origin)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT EXISTS (SELECT 1 FROM versions WHERE key = $key AND clock = $clock AND origin = $origin)");
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$clock", clock);
            cmd.Parameters.AddWithValue("$origin", origin);
            return (long)cmd.ExecuteScalar()! != 0;
        }
    }

    /// <summary>The clock of the first version of the record under <paramref name="key"/> newer than <paramref name="clock"/> that this node holds (kept or current): when an older one arriving now ended.</summary>
    public long NextVersionClock(byte[] key, long clock)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                SELECT MIN(c) FROM (SELECT MIN(clock) AS c FROM versions WHERE key = $key AND clock > $clock
                                    UNION ALL SELECT clock FROM records WHERE key = $key AND clock > $clock)
                """);
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$clock", clock);
            return cmd.ExecuteScalar() is long next ? next : long.MaxValue;
        }
    }

    /// <summary>
    /// Keeps a version that reached this node as history (a peer's, older than what this node holds), ended
    /// at its Until, under the next sequence number, with its chunk references (a member's;
    /// none and no parent on a storage peer). Inside the caller's transaction.
    /// </summary>
    public void PutVersion(StoredVersion version, byte[]? signature, string? parent, IEnumerable<ChunkId> chunks)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(chunks);
        using MetaTransaction tx = _db.JoinOrBegin();
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command($"""
                INSERT OR IGNORE INTO versions (key, clock, origin, body, sig, until, parent, seq)
                VALUES ($key, $clock, $origin, $body, $sig, $until, $parent, {NextSeq})
                """);
            cmd.Parameters.AddWithValue("$key", version.Key);
            cmd.Parameters.AddWithValue("$clock", version.Clock);
            cmd.Parameters.AddWithValue("$origin", version.Origin);
            cmd.Parameters.AddWithValue("$body", version.Body);
            cmd.Parameters.AddWithValue("$sig", (object?)signature ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$until", version.Until);
            cmd.Parameters.AddWithValue("$parent", (object?)parent ?? DBNull.Value);
            if (cmd.ExecuteNonQuery() > 0)
            {
                SqliteCommand refs = _db.Command("INSERT OR IGNORE INTO chunk_refs (chunk, path) VALUES ($chunk, $tag)");
                refs.Parameters.AddWithValue("$tag", TagOf(version.Key, version.Clock, version.Origin));
                SqliteParameter chunk = refs.Parameters.Add("$chunk", SqliteType.Blob);
                foreach (ChunkId id in chunks)
                {
                    chunk.Value = id.ToBytes();
                    refs.ExecuteNonQuery();
                }
            }

            tx.Commit();
        }
    }

    /// <summary>The kept versions of the record under <paramref name="key"/>, oldest first (the current record not among them).</summary>
    public IReadOnlyList<StoredVersion> VersionsOf(byte[] key)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT key, clock, origin, body, until FROM versions WHERE key = $key ORDER BY clock, origin");
            cmd.Parameters.AddWithValue("$key", key);
            return ReadVersions(cmd);
        }
    }

    /// <summary>The kept versions in the directory whose index key is <paramref name="parent"/> that were current at <paramref name="at"/>.</summary>
    public IReadOnlyList<StoredVersion> VersionsIn(string parent, long at)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT key, clock, origin, body, until FROM versions WHERE parent = $parent AND clock <= $at AND until > $at");
            cmd.Parameters.AddWithValue("$parent", parent);
            cmd.Parameters.AddWithValue("$at", at);
            return ReadVersions(cmd);
        }
    }

    /// <summary>Every entry directly under <paramref name="parent"/>, tombstones included, as versions current until now.</summary>
    public IReadOnlyList<StoredVersion> CurrentIn(string parent)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                SELECT r.key, r.clock, r.origin, r.body, 9223372036854775807 FROM entries e JOIN records r ON r.key = unhex(e.path) WHERE e.parent = $parent
                """);
            cmd.Parameters.AddWithValue("$parent", parent);
            return ReadVersions(cmd);
        }
    }

    /// <summary>Every tombstone in the entry index, as its record.</summary>
    public IReadOnlyList<StoredVersion> Tombstones()
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("""
                SELECT r.key, r.clock, r.origin, r.body, 9223372036854775807 FROM entries e JOIN records r ON r.key = unhex(e.path) WHERE e.deleted = 1
                """);
            return ReadVersions(cmd);
        }
    }

    /// <summary>How many versions history holds (cheap, unlike <see cref="HistoryTotals"/>).</summary>
    public long VersionCount() => _db.Scalar<long>("SELECT COUNT(*) FROM versions");

    /// <summary>The kept version of the record under <paramref name="key"/> that was current at <paramref name="at"/>, if any.</summary>
    public StoredVersion? VersionAt(byte[] key, long at)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT key, clock, origin, body, until FROM versions WHERE key = $key AND clock <= $at AND until > $at ORDER BY clock DESC LIMIT 1");
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$at", at);
            return ReadVersions(cmd).FirstOrDefault();
        }
    }

    /// <summary>The clock of the oldest kept version (0: none).</summary>
    public long OldestVersionClock() => _db.Scalar<long>("SELECT COALESCE(MIN(clock), 0) FROM versions");

    /// <summary>
    /// Deletes up to <paramref name="limit"/> kept versions replaced before <paramref name="cutoff"/>, oldest
    /// first, except those current at one of <paramref name="pins"/> (snapshots), with their chunk
    /// references. Returns how many went and the chunks that lost a reference (each may still have others).
    /// </summary>
    public (int Pruned, IReadOnlyList<ChunkId> Released) PruneVersions(long cutoff, IReadOnlyList<long> pins, int limit)
    {
        ArgumentNullException.ThrowIfNull(pins);
        using MetaTransaction tx = _db.BeginTransaction();
        SqliteCommand delete = _db.Command("DELETE FROM versions WHERE rowid = $row");
        SqliteCommand refs = _db.Command("DELETE FROM chunk_refs WHERE path = $tag RETURNING chunk");
        var released = new List<ChunkId>();
        int pruned = 0;
        for (HistoryCursor? at = null; pruned < limit && VersionPage(cutoff, at, 64) is { Count: > 0 } page;)
        {
            foreach (VersionRow version in page)
            {
                at = version.Cursor;
                if (pins.Any(pin => version.Clock <= pin && pin < version.Cursor.Until))
                {
                    continue; // a snapshot holds it: it stays
                }

                delete.Parameters.Clear();
                delete.Parameters.AddWithValue("$row", version.Cursor.Row);
                delete.ExecuteNonQuery();
                refs.Parameters.Clear();
                refs.Parameters.AddWithValue("$tag", version.Tag);
                released.AddRange(MetaDatabase.ReadIds(refs));
                if (++pruned == limit)
                {
                    break;
                }
            }
        }

        tx.Commit();
        return (pruned, released);
    }

    /// <summary>
    /// The chunks this node stores that only history references and that no longer wait for replication,
    /// version by version, oldest replaced first: those of up to <paramref name="limit"/> versions past
    /// <paramref name="after"/> (null: from the oldest). Returns them with their sizes, and where the next
    /// page starts (null: no more versions). Space pressure gives up such copies where enough are elsewhere.
    /// </summary>
    public (IReadOnlyList<(ChunkId Id, long Size)> Chunks, HistoryCursor? Next) HistoryOnlyCopies(HistoryCursor? after, int limit)
    {
        lock (_db.Lock)
        {
            IReadOnlyList<VersionRow> page = VersionPage(long.MaxValue, after, limit);
            SqliteCommand copies = _db.Command($"""
                SELECT c.chunk, b.size FROM chunk_refs c JOIN blobs b ON b.id = c.chunk
                WHERE c.path = $tag AND {NoLiveRef("c.chunk")} AND {NotQueued("c.chunk")}
                """);
            var chunks = new List<(ChunkId, long)>();
            foreach (VersionRow version in page)
            {
                copies.Parameters.Clear();
                copies.Parameters.AddWithValue("$tag", version.Tag);
                using SqliteDataReader reader = copies.ExecuteReader();
                while (reader.Read())
                {
                    chunks.Add((ChunkId.FromBytes((byte[])reader.GetValue(0)), reader.GetInt64(1)));
                }
            }

            return (chunks, page.Count < limit ? null : page[^1].Cursor);
        }
    }

    /// <summary>True when only history references <paramref name="id"/> (no live entry) and it waits for no replication: a copy space pressure may give up.</summary>
    public bool IsHistoryOnlyCopy(ChunkId id)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command($"""
                SELECT EXISTS (SELECT 1 FROM chunk_refs WHERE chunk = $chunk) AND {NoLiveRef("$chunk")} AND {NotQueued("$chunk")}
                """);
            cmd.Parameters.AddWithValue("$chunk", id.ToBytes());
            return (long)cmd.ExecuteScalar()! != 0;
        }
    }

    /// <summary>Up to <paramref name="limit"/> versions replaced before <paramref name="cutoff"/>, past <paramref name="after"/>, in the order they were replaced.</summary>
    private List<VersionRow> VersionPage(long cutoff, HistoryCursor? after, int limit)
    {
        // Paged by (until, rowid) past the last row seen: rows deleted on the way do not shift the pages.
        SqliteCommand select = _db.Command("""
            SELECT rowid, key, clock, origin, until FROM versions
            WHERE until < $cutoff AND (until > $until OR (until = $until AND rowid > $row))
            ORDER BY until, rowid LIMIT $limit
            """);
        select.Parameters.AddWithValue("$cutoff", cutoff);
        select.Parameters.AddWithValue("$until", after?.Until ?? long.MinValue);
        select.Parameters.AddWithValue("$row", after?.Row ?? long.MinValue);
        select.Parameters.AddWithValue("$limit", limit);
        using SqliteDataReader reader = select.ExecuteReader();
        var page = new List<VersionRow>();
        while (reader.Read())
        {
            long clock = reader.GetInt64(2);
            page.Add(new VersionRow(new HistoryCursor(reader.GetInt64(4), reader.GetInt64(0)), TagOf((byte[])reader.GetValue(1), clock, (byte[])reader.GetValue(3)), clock));
        }

        return page;
    }

    /// <summary>A kept version as pruning sees it: where it sits in replacement order, its chunk_refs tag, its clock.</summary>
    private readonly record struct VersionRow(HistoryCursor Cursor, string Tag, long Clock);

    /// <summary>
    /// Prunes the oldest kept versions, whatever their age (never one a pin keeps), while <paramref name="tooMuch"/>
    /// says so: one at a time for the first 32, so little more goes than needed, then twice as many a round
    /// (up to 256), so a long history is not pruned a row per transaction. Hands each round's released chunks
    /// to <paramref name="released"/>. Returns how many versions went.
    /// </summary>
    public int PruneOldestWhile(Func<bool> tooMuch, IReadOnlyList<long> pins, Action<IReadOnlyList<ChunkId>> released)
    {
        ArgumentNullException.ThrowIfNull(tooMuch);
        ArgumentNullException.ThrowIfNull(released);
        int total = 0;
        for (int batch = 1; tooMuch(); batch = total < 32 ? 1 : Math.Min(2 * batch, 256))
        {
            (int pruned, IReadOnlyList<ChunkId> chunks) = PruneVersions(long.MaxValue, pins, batch);
            if (pruned == 0)
            {
                break; // what is left is a snapshot's
            }

            total += pruned;
            released(chunks);
        }

        return total;
    }

    /// <summary>
    /// How many versions history holds, and the chunks (and their bytes: the stored blob's size where this
    /// node holds it, else <paramref name="chunkSize"/>) that only history references.
    /// </summary>
    public (long Versions, long Chunks, long Bytes) HistoryTotals(int chunkSize)
    {
        lock (_db.Lock)
        {
            long versions = VersionCount();
            SqliteCommand cmd = _db.Command($"""
                SELECT COUNT(*), COALESCE(SUM(COALESCE(b.size, $chunk)), 0)
                FROM (SELECT DISTINCT chunk FROM chunk_refs WHERE {IsVersionRef}) h LEFT JOIN blobs b ON b.id = h.chunk
                WHERE {NoLiveRef("h.chunk")}
                """);
            cmd.Parameters.AddWithValue("$chunk", chunkSize);
            using SqliteDataReader reader = cmd.ExecuteReader();
            reader.Read();
            return (versions, reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    /// <summary>A version's tag in chunk_refs: the path key in hex, '@', the clock, '.', the origin in hex (as <see cref="EntryVersionTag"/> makes it).</summary>
    private static string TagOf(byte[] key, long clock, byte[] origin) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Convert.ToHexStringLower(key)}@{clock}.{Convert.ToHexStringLower(origin)}");

    private static List<StoredVersion> ReadVersions(SqliteCommand cmd)
    {
        using SqliteDataReader reader = cmd.ExecuteReader();
        var versions = new List<StoredVersion>();
        while (reader.Read())
        {
            versions.Add(new StoredVersion((byte[])reader.GetValue(0), reader.GetInt64(1), (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), reader.GetInt64(4)));
        }

        return versions;
    }
}
