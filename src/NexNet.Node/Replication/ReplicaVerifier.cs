using System.Buffers;
using System.Collections.Concurrent;

namespace NexNet.Node.Replication;

/// <summary>
/// Checks the contents of replicas peers push here later rather than on arrival. On arrival a member
/// checks a pushed blob's header tag, which binds its IV to its id under the volume's key: a peer
/// without the volume key cannot forge one, so forged or misnamed blobs are still refused at once. What
/// waits is the full check that the plaintext hashes to the id (a decrypt and an HMAC of every byte, as
/// much CPU as the two TLS legs of the transfer together). It runs before this node first reads the
/// chunk, and in the background once pushes have stopped for a moment; a replica that fails it is
/// deleted and logged, and a good copy is fetched back from a peer. Readers never rely on another
/// node's check: every fetched blob is checked in full by whoever fetched it.
/// </summary>
/// <remarks>
/// Why: the first design had members check every pushed blob in full before storing it. Measured, that check is
/// a quarter of the CPU a replicated write costs across three nodes on two cores, spent on copies most
/// owners never read. The unchecked ids are durable (listed before the blobs become visible), so a
/// restart forgets none.
/// </remarks>
internal sealed class ReplicaVerifier : IAsyncDisposable
{
    private readonly BlobStore _blobs;
    private readonly NodeStore _meta;
    private readonly BlobCipher _cipher;
    private readonly int _maxBlobLength;
    private readonly TimeSpan _quiet;
    private readonly ILogger _log;
    /// <summary>Unchecked ids: 0 once the blob is stored, else when it arrived (its batch is not yet durable and visible).</summary>
    private readonly ConcurrentDictionary<ChunkId, long> _pending = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _lastArrivalTicks;
    private readonly Action<ChunkId>? _onRejected;
    private long _rejected;

    /// <summary>
    /// Checks replicas in <paramref name="blobs"/>; the background check starts once pushes have paused for
    /// <paramref name="quiet"/>. <paramref name="onRejected"/> is called with each replica that failed its
    /// check and was deleted (the node fetches a good copy back).
    /// </summary>
    public ReplicaVerifier(BlobStore blobs, NodeStore meta, BlobCipher cipher, int maxBlobLength, TimeSpan quiet, ILogger log, Action<ChunkId>? onRejected = null)
    {
        _onRejected = onRejected;
        _quiet = quiet;
        _blobs = blobs;
        _meta = meta;
        _cipher = cipher;
        _maxBlobLength = maxBlobLength;
        _log = log;
        foreach (ChunkId id in meta.Unverified())
        {
            _pending[id] = 0;
        }

        _loop = Task.Run(BackgroundAsync);
    }

    /// <summary>Replicas stored here and not yet checked in full.</summary>
    public int Pending => _pending.Count;

    /// <summary>Replicas that failed the full check and were deleted, since start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>The check a pushed blob passes before it is stored: its header tag (see the class summary).</summary>
    public void CheckOnArrival(ChunkId id, ReadOnlySpan<byte> sealedBlob)
    {
        Volatile.Write(ref _lastArrivalTicks, Environment.TickCount64); // a push is under way: the background check waits
        _ = _cipher.CheckHeader(sealedBlob, id);
    }

    /// <summary>Lists pushed blobs as unchecked, durably; called just before their batch makes them durable and visible.</summary>
    public void Arrived(IReadOnlyList<ChunkId> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        _meta.AddUnverified(ids);
        long now = Environment.TickCount64;
        foreach (ChunkId id in ids)
        {
            _pending[id] = now;
        }

        Volatile.Write(ref _lastArrivalTicks, now);
    }

    /// <summary>The blobs of <see cref="Arrived"/> are stored: the background check may take them now.</summary>
    public void Stored(IReadOnlyList<ChunkId> ids)
    {
        foreach (ChunkId id in ids)
        {
            _pending.TryUpdate(id, 0, _pending.GetValueOrDefault(id));
        }
    }

    /// <summary>
    /// Checks the local copy of <paramref name="id"/> in full if it has not been yet, and says whether it
    /// had to. A copy that fails is deleted (the caller then finds it missing and fetches a good one).
    /// </summary>
    /// <remarks>
    /// A reader calls this after reading a chunk, not before: an id is listed before its pushed blob
    /// becomes visible, so a read that found a pushed blob also finds it listed here, even when the push
    /// landed between the two.
    /// </remarks>
    public bool EnsureVerified(ChunkId id)
    {
        if (!_pending.ContainsKey(id)) // lock-free (IsEmpty would take every lock when the set is empty, the usual case)
        {
            return false;
        }

        Verify(id);
        return true;
    }

    private void Verify(ChunkId id)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_maxBlobLength);
        try
        {
            int length = _blobs.ReadInto(id, buffer);
            _cipher.Verify(buffer.AsSpan(0, length), id);
        }
        catch (BlobNotFoundException) when (IsArriving(id))
        {
            return; // its batch is not yet visible: it stays listed
        }
        catch (BlobNotFoundException)
        {
            // Collected or dropped meanwhile (or its push failed): nothing left to check.
        }
        catch (IntegrityException e)
        {
            Interlocked.Increment(ref _rejected);
            Log.BadReplica(_log, id, e.Message);
            _blobs.Delete(id, _meta.Blobs);
            _onRejected?.Invoke(id);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_pending.TryRemove(id, out _))
        {
            _meta.RemoveUnverified(id);
        }
    }

    /// <summary>True while the blob's push may still be committing (a failed push's ids are let go after a minute).</summary>
    private bool IsArriving(ChunkId id) =>
        _pending.TryGetValue(id, out long arrived) && arrived != 0 && Environment.TickCount64 - arrived < 60_000;

    /// <summary>Checks what is pending whenever pushes have paused, so that a bad replica is found before anyone needs it.</summary>
    private async Task BackgroundAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(_quiet.TotalMilliseconds, 10, 1000)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                foreach (ChunkId id in _pending.Keys)
                {
                    if (_stopping.IsCancellationRequested || Environment.TickCount64 - Volatile.Read(ref _lastArrivalTicks) < _quiet.TotalMilliseconds)
                    {
                        break; // pushes are arriving: they come first
                    }

                    if (IsArriving(id))
                    {
                        continue;
                    }

                    try
                    {
                        Verify(id);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or MetaDatabaseException or Microsoft.Data.Sqlite.SqliteException)
                    {
                        Log.LoopFailed(_log, "replica check", e.Message);
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
