using NexNet.Node;
using NexNet.Storage;

namespace NexNet.Fuse;

/// <summary>Files libfuse hid (<c>.fuse_hidden…</c>) when they were unlinked while open: kept in memory for their handles only, and the removal that a rename from the same thread may still replace.</summary>
public sealed partial class VolumeFileSystem
{
    /// <summary>How long a hidden file stays openable by its hidden name after libfuse removed that name.</summary>
    private static readonly TimeSpan s_hiddenLinger = TimeSpan.FromSeconds(10);

    /// <summary>Forgets hidden files whose linger ended and that nobody has open. Caller holds _lock.</summary>
    private void SweepHidden()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach ((string path, OpenFile file) in _byPath.Where(p => p.Value.Unlinked && p.Value.Handles == 0 && p.Value.HiddenUntil < now).ToList())
        {
            _byPath.Remove(path);
        }
    }

    /// <summary>
    /// libfuse renames an open file to a hidden name both when it is unlinked and when a rename replaces
    /// it, and we cannot tell which: in the second case the replacing rename follows at once on this
    /// thread, and removing the name now would let readers see it missing in between. So the removal is
    /// pending for a moment: a rename onto the name from this thread cancels it (it replaces the entry in
    /// one step), otherwise it happens. Lookups of the name wait for the outcome (a few milliseconds).
    /// </summary>
    private int Hide(OpenFile file, string source, string hidden)
    {
        lock (file.Gate)
        {
            file.Unlinked = true;
        }

        var pending = new PendingRemoval(source, Environment.CurrentManagedThreadId, !file.Version.IsNone);
        lock (_lock)
        {
            _byPath.Remove(source);
            _byPath[hidden] = file;
            file.Path = hidden;
            _cachedVersions.Remove(source);
            _pendingRemovals[source] = pending;
        }

        _ = Task.Delay(PendingRemoval.Window).ContinueWith(_ => Resolve(pending, remove: true), TaskScheduler.Default);
        return 0;
    }

    /// <summary>Settles a pending removal once: removes the entry (unlink) or leaves it to the rename that replaced it.</summary>
    private void Resolve(PendingRemoval pending, bool remove)
    {
        lock (_lock)
        {
            if (pending.Settled)
            {
                return;
            }

            pending.Settled = true;
            _pendingRemovals.Remove(pending.Path);
        }

        try
        {
            if (remove && pending.Committed)
            {
                if (_volume.Stat(pending.Path) is { IsDirectory: false })
                {
                    _volume.Delete(pending.Path, durability: Durability.Relaxed);
                }
            }
        }
        catch (VolumeException)
        {
            // Already gone.
        }
        finally
        {
            pending.Done.Set();
        }
    }

    /// <summary>
    /// Waits for a pending removal of <paramref name="path"/> made by another thread (see <see cref="Hide"/>).
    /// One made on this thread is part of this request (libfuse's rename over an open file hides the
    /// target, then renames, in one request) and is left alone — except by a <paramref name="lookup"/>:
    /// libfuse never looks the hidden path up inside that sequence, so a lookup on the same thread is a
    /// later request (the loop reuses its threads), and the unlink it follows is settled now.
    /// </summary>
    private void AwaitPendingRemoval(string path, bool lookup = false)
    {
        PendingRemoval? pending;
        lock (_lock)
        {
            if (!_pendingRemovals.TryGetValue(path, out pending))
            {
                return;
            }
        }

        if (pending.Thread != Environment.CurrentManagedThreadId)
        {
            pending.Done.Wait(TimeSpan.FromSeconds(5));
        }
        else if (lookup)
        {
            Resolve(pending, remove: true);
        }
    }

    private void CommitOpen(string path)
    {
        OpenFile? file;
        lock (_lock)
        {
            _byPath.TryGetValue(path, out file);
        }

        if (file is not null)
        {
            lock (file.Gate)
            {
                file.Commit();
            }
        }
    }

    /// <summary>Moves open files at or below <paramref name="from"/> to the same place below <paramref name="to"/>. Caller holds _lock.</summary>
    private void Rekey(string from, string to)
    {
        foreach ((string path, OpenFile file) in _byPath.ToList())
        {
            string? moved = path == from ? to : VolumePath.IsWithin(path, from) ? to + path[from.Length..] : null;
            if (moved is not null)
            {
                _byPath.Remove(path);
                _byPath[moved] = file;
                file.Path = moved;
            }
        }
    }

    /// <summary>A name whose open file libfuse hid: removed after <see cref="Window"/> unless a rename from the same thread replaces it first.</summary>
    private sealed class PendingRemoval(string path, int thread, bool committed)
    {
        public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(5);

        public string Path { get; } = path;

        public int Thread { get; } = thread;

        /// <summary>The hidden file had been committed (an entry exists to remove).</summary>
        public bool Committed { get; } = committed;

        public bool Settled { get; set; }

        public ManualResetEventSlim Done { get; } = new();
    }
}
