using System.Collections.Concurrent;

namespace NexNet.Node.Space;

/// <summary>
/// Chunks stored for files that are still being written (the mount seals them as it goes): no record
/// references them yet, so without a hold the collector would take them once the grace has passed under
/// a long-open file. Counted, because two open files can hold the same chunk.
/// </summary>
internal sealed class ChunkHolds
{
    private readonly ConcurrentDictionary<ChunkId, int> _counts = new();

    public void Hold(ChunkId id) => _counts.AddOrUpdate(id, 1, (_, n) => n + 1);

    public void Release(ChunkId id)
    {
        while (_counts.TryGetValue(id, out int n))
        {
            if (n <= 1 ? _counts.TryRemove(new KeyValuePair<ChunkId, int>(id, n)) : _counts.TryUpdate(id, n - 1, n))
            {
                return;
            }
        }
    }

    public bool IsHeld(ChunkId id) => _counts.ContainsKey(id);

    public IReadOnlyCollection<ChunkId> Snapshot() => [.. _counts.Keys];
}
