using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using NexNet.Node;
using NexNet.WebDav;

namespace NexNet.Cli;

/// <summary>
/// <c>config.json</c> in the data directory: the settings a node starts with. <c>init</c> and <c>join</c>
/// write it; command-line flags override it for one run. Unknown keys are refused (a typo should not
/// silently fall back to a default).
/// </summary>
internal sealed record NodeConfig
{
    public const string FileName = "config.json";

    public const int DefaultPort = 4747;

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Where peers reach this node (host:port; port 0 picks a free one).</summary>
    public string Listen { get; init; } = $"0.0.0.0:{DefaultPort}";

    /// <summary>Other nodes (host:port) to dial at start.</summary>
    public IReadOnlyList<string> Join { get; init; } = [];

    /// <summary>Copies of every chunk (capped at the number of nodes).</summary>
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>How often anti-entropy asks every peer for new records.</summary>
    public double SyncIntervalSeconds { get; init; } = 5;

    /// <summary>A peer unreachable this long is counted out and its chunks copied elsewhere.</summary>
    public double DeadAfterSeconds { get; init; } = 120;

    /// <summary>How long a chunk no file references is kept before it is collected.</summary>
    public double CollectionGraceMinutes { get; init; } = 15;

    /// <summary>How often collection and history pruning run, in seconds.</summary>
    public double CollectionIntervalSeconds { get; init; } = 60;

    /// <summary>Disk space the chunk store leaves free for commits and records, in MiB (0: a tenth of the disk, 8 to 256 MiB).</summary>
    public double SpaceReserveMiB { get; init; }

    /// <summary>How long every version of every path is kept after a newer one (or a deletion) replaced it, in days (0: no history).</summary>
    public double HistoryDays { get; init; } = 30;

    /// <summary>The most bytes of chunks only history keeps, in GiB (0: no limit); past it the oldest versions go first (never a snapshot's).</summary>
    public double HistoryMaxGiB { get; init; }

    /// <summary>The most the local store should hold, in GiB (0: no limit); past it, chunks held only as copies are evicted, least recently used first.</summary>
    public double CacheLimitGiB { get; init; }

    /// <summary>On a storage peer, the most it stores for others, in GiB (0: no limit); past it, pushes are refused.</summary>
    public double StorageQuotaGiB { get; init; }

    /// <summary>How far ahead of this machine's clock a record may be stamped; one further ahead waits until it is not (and says so in the log).</summary>
    public double MaxClockSkewMinutes { get; init; } = 10;

    /// <summary>Host names (NAME or NAME:PORT) WebDAV requests may name besides the address they reach; any other Host is refused.</summary>
    [JsonPropertyName("webdavHosts")]
    public IReadOnlyList<string> WebDavHosts { get; init; } = [];

    public static NodeConfig Load(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            return new NodeConfig();
        }

        try
        {
            NodeConfig config = JsonSerializer.Deserialize<NodeConfig>(File.ReadAllText(path), s_json) ?? new NodeConfig();
            _ = ParseEndPoint(config.Listen, $"\"listen\" in {path}");
            _ = ParseWebDavHosts(config.WebDavHosts, $"\"webdavHosts\" in {path}");
            return config;
        }
        catch (JsonException e)
        {
            throw new CliException($"{path} is not valid: {e.Message} (fix it, or delete it to use the defaults)", ExitCodes.Usage);
        }
    }

    public void Save(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        File.WriteAllText(path, JsonSerializer.Serialize(this, s_json) + "\n");
    }

    /// <summary>The node's options: this config with the command line's --listen and --join on top.</summary>
    public NodeOptions ToNodeOptions(string? listenFlag, IReadOnlyList<string> joinFlags) => new()
    {
        Listen = ParseEndPoint(listenFlag ?? Listen, listenFlag is null ? $"\"listen\" in {FileName}" : "--listen"),
        Bootstrap = joinFlags.Count > 0 ? joinFlags : Join,
        ReplicationFactor = ReplicationFactor,
        SyncInterval = TimeSpan.FromSeconds(SyncIntervalSeconds),
        DeadAfter = TimeSpan.FromSeconds(DeadAfterSeconds),
        CollectionGrace = TimeSpan.FromMinutes(CollectionGraceMinutes),
        CollectionInterval = CollectionIntervalSeconds > 0 ? TimeSpan.FromSeconds(CollectionIntervalSeconds)
            : throw new CliException($"\"collectionIntervalSeconds\" in {FileName} must be more than 0", ExitCodes.Usage),
        SpaceReserve = SpaceReserveMiB >= 0 ? (long)(SpaceReserveMiB * (1 << 20))
            : throw new CliException($"\"spaceReserveMiB\" in {FileName} cannot be negative", ExitCodes.Usage),
        HistoryRetention = HistoryDays >= 0 ? TimeSpan.FromDays(HistoryDays)
            : throw new CliException($"\"historyDays\" in {FileName} cannot be negative", ExitCodes.Usage),
        HistoryMaxBytes = HistoryMaxGiB > 0 ? (long)(HistoryMaxGiB * (1L << 30)) : 0,
        CacheLimit = CacheLimitGiB > 0 ? (long)(CacheLimitGiB * (1L << 30)) : 0,
        StorageQuota = StorageQuotaGiB > 0 ? (long)(StorageQuotaGiB * (1L << 30)) : 0,
        MaxClockSkew = MaxClockSkewMinutes >= 0 ? TimeSpan.FromMinutes(MaxClockSkewMinutes)
            : throw new CliException($"\"maxClockSkewMinutes\" in {FileName} cannot be negative", ExitCodes.Usage),
    };

    /// <summary>The WebDAV host names, each checked: NAME or NAME:PORT, NAME a DNS name or an IP address.</summary>
    public static IReadOnlyList<string> ParseWebDavHosts(IReadOnlyList<string> hosts, string what)
    {
        foreach (string host in hosts)
        {
            if (WebDavOptions.ParseHost(host) is null)
            {
                throw new CliException($"{what} takes host names, NAME or NAME:PORT (e.g. nas.local or nas.example.org:8443), got \"{host}\"", ExitCodes.Usage);
            }
        }

        return hosts;
    }

    public static IPEndPoint ParseEndPoint(string text, string what) =>
        IPEndPoint.TryParse(text, out IPEndPoint? endPoint)
            ? endPoint
            : throw new CliException($"{what} must be HOST:PORT with an IP address, e.g. 0.0.0.0:{DefaultPort} (port 0 picks a free one); got \"{text}\"", ExitCodes.Usage);
}
