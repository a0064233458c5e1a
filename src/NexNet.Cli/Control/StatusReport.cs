using System.Text.Json.Nodes;
using NexNet.Node;

namespace NexNet.Cli.Control;

/// <summary>What <c>nexnet status</c> shows, as the JSON the control socket answers and <c>--json</c> prints.</summary>
internal static class StatusReport
{
    public static JsonObject Build(NexNetNode node, IReadOnlyList<string> mounts, double replicationBytesPerSecond, string? webDavUrl)
    {
        NodeStatus status = node.Status();
        return new JsonObject
        {
            ["id"] = status.Id,
            ["listen"] = status.Address,
            ["member"] = status.IsMember,
            ["dataDirectory"] = node.DataDirectory,
            ["pid"] = Environment.ProcessId,
            ["mounts"] = new JsonArray([.. mounts.Select(m => (JsonNode)m)]),
            ["webdav"] = webDavUrl,
            ["peers"] = new JsonArray([.. node.PeerStates().Select(p => (JsonNode)new JsonObject
            {
                ["id"] = p.Id,
                ["address"] = p.Address,
                ["state"] = p.State,
                ["rttMs"] = p.RoundTrip?.TotalMilliseconds,
                ["caughtUp"] = p.CaughtUp?.ToString("O"),
            })]),
            ["members"] = status.Members,
            ["store"] = new JsonObject
            {
                ["chunks"] = status.Blobs,
                ["bytes"] = status.BlobBytes,
                ["cacheLimit"] = status.CacheLimit > 0 ? status.CacheLimit : null, // bytes; null: no bound (collection still removes what no file references)
                ["quota"] = status.StorageQuota > 0 ? status.StorageQuota : null, // bytes a storage peer stores for others; null: no quota (or a member)
                ["replicasUnchecked"] = status.ReplicasUnchecked, // pushed here, contents not yet checked (ReplicaVerifier)
            },
            ["replication"] = new JsonObject
            {
                ["pendingChunks"] = status.ReplicationBacklogChunks,
                ["pendingBytes"] = status.ReplicationBacklogBytes,
                ["bytesPerSecond"] = Math.Round(replicationBytesPerSecond),
            },
            ["history"] = node.Volume is { } volume ? History(volume, node.HistoryRetention) : null,
            ["space"] = node.Volume?.Space is { } space ? new JsonObject
            {
                ["freeBytes"] = space.FreeBytes, // free on the data directory's disk, at the last measure (each collection pass, and when room ran out)
                ["reserveBytes"] = space.ReserveBytes, // kept free for commits and records: chunks may not take it
                ["availableBytes"] = space.AvailableBytes,
                ["pressure"] = space.UnderPressure, // below twice the reserve: cached copies and the oldest history are given up
            } : null,
            ["tree"] = new JsonObject
            {
                ["records"] = status.Records,
                ["entries"] = status.Entries,
                ["recordsRejected"] = status.RecordsRejected,
                ["chunksFetched"] = status.ChunksFetched,
                ["badChunksRejected"] = status.BadChunksRejected,
            },
        };
    }

    private static JsonObject History(Volume volume, TimeSpan retention)
    {
        HistoryTotals totals = volume.HistoryTotals();
        return new JsonObject
        {
            ["versions"] = totals.Versions, // versions newer ones replaced, kept for the retention
            ["chunks"] = totals.Chunks, // chunks only history keeps
            ["bytes"] = totals.Bytes, // their bytes (a full chunk each where this node holds no copy)
            ["oldest"] = totals.Oldest?.ToString("O"),
            ["retentionDays"] = retention.TotalDays,
            ["snapshots"] = volume.Snapshots().Count,
        };
    }
}
