using System.Security.Cryptography;
using Google.Protobuf;

namespace NexNet.Node.Replication;

/// <summary>
/// The notices a storage peer acts on, though it cannot read the tree to check them: collect notices
/// (chunks a member deleted as garbage, which it deletes too) and replace notices (copies a member found
/// bad, with the digests of the blobs that take their place). Each is signed by the volume key, bound to
/// its chunk ids and its time, and acted on once: a notice outside the skew bound of the receiver's
/// clock, or one whose nonce it has already seen, is refused. A holder of the network key alone can
/// therefore make nobody delete or replace anything, and a recorded notice cannot be replayed later
/// against chunks written again since.
/// </summary>
internal sealed class SignedNotices(VolumeVerifier? verifier, TimeSpan maxSkew, Func<DateTimeOffset>? now = null)
{
    /// <summary>Nonces remembered at most; a notice past this many within the window is refused (a member sends one per 4,096 chunks).</summary>
    private const int MaxRemembered = 100_000;

    private const int NonceSize = 16;

    private readonly Func<DateTimeOffset> _now = now ?? (() => DateTimeOffset.UtcNow);
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>A signed collect notice for <paramref name="ids"/>, made at <paramref name="at"/>.</summary>
    public static byte[] MakeCollect(VolumeSigner signer, IReadOnlyCollection<ChunkId> ids, DateTimeOffset at)
    {
        ByteString packed = EntryCodec.PackIds(ids);
        long time = at.ToUnixTimeMilliseconds();
        byte[] nonce = RandomNumberGenerator.GetBytes(NonceSize);
        return new CollectNotice
        {
            Ids = packed,
            TimeMs = time,
            Nonce = UnsafeByteOperations.UnsafeWrap(nonce),
            Signature = UnsafeByteOperations.UnsafeWrap(signer.Sign(SignatureDomain.Collect, packed.Memory, BigEndian.Int64(time), nonce)),
        }.ToByteArray();
    }

    /// <summary>A signed replace notice for <paramref name="target"/> alone: these ids' blobs, each with its SHA-256, made at <paramref name="at"/>.</summary>
    public static byte[] MakeReplace(VolumeSigner signer, NodeId target, IReadOnlyList<(ChunkId Id, byte[] Digest)> blobs, DateTimeOffset at)
    {
        byte[] targetId = target.ToBytes();
        ByteString ids = EntryCodec.PackIds([.. blobs.Select(b => b.Id)]);
        byte[] digests = [.. blobs.SelectMany(b => b.Digest)];
        long time = at.ToUnixTimeMilliseconds();
        byte[] nonce = RandomNumberGenerator.GetBytes(NonceSize);
        return new ReplaceNotice
        {
            Ids = ids,
            Digests = UnsafeByteOperations.UnsafeWrap(digests),
            TimeMs = time,
            Nonce = UnsafeByteOperations.UnsafeWrap(nonce),
            Target = UnsafeByteOperations.UnsafeWrap(targetId),
            Signature = UnsafeByteOperations.UnsafeWrap(signer.Sign(SignatureDomain.Replace, ids.Memory, digests, targetId, BigEndian.Int64(time), nonce)),
        }.ToByteArray();
    }

    /// <summary>The ids a collect notice names if it is to be acted on; otherwise null and why.</summary>
    public IReadOnlyList<ChunkId>? AcceptCollect(ReadOnlyMemory<byte> body, out string? problem)
    {
        if (Parse(CollectNotice.Parser, body, "collect notice", out problem) is not { } notice)
        {
            return null;
        }

        return Admit("collect notice", SignatureDomain.Collect, notice.Ids, [], notice.TimeMs, notice.Nonce, notice.Signature, out problem)
            ? EntryCodec.UnpackIds(notice.Ids.Span)
            : null;
    }

    /// <summary>Each id of a replace notice with the SHA-256 its new blob must have, if it is for <paramref name="self"/> and to be acted on; otherwise null and why.</summary>
    public IReadOnlyDictionary<ChunkId, byte[]>? AcceptReplace(ReadOnlyMemory<byte> body, NodeId self, out string? problem)
    {
        if (Parse(ReplaceNotice.Parser, body, "replace notice", out problem) is not { } notice)
        {
            return null;
        }

        if (notice.Digests.Length != notice.Ids.Length)
        {
            problem = "a replace notice whose digests do not match its ids";
            return null;
        }

        if (!notice.Target.Span.SequenceEqual(self.ToBytes()))
        {
            problem = "a replace notice for another node (replayed)";
            return null;
        }

        if (!Admit("replace notice", SignatureDomain.Replace, notice.Ids, [notice.Digests.Memory, notice.Target.Memory], notice.TimeMs, notice.Nonce, notice.Signature, out problem))
        {
            return null;
        }

        var digests = new Dictionary<ChunkId, byte[]>();
        IReadOnlyList<ChunkId> ids = EntryCodec.UnpackIds(notice.Ids.Span);
        for (int i = 0; i < ids.Count; i++)
        {
            digests[ids[i]] = notice.Digests.Span.Slice(i * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes).ToArray();
        }

        return digests;
    }

    /// <summary>The checks every notice passes: well formed, recent, new, and signed over ids, <paramref name="extra"/>, time and nonce (the cheap checks first).</summary>
    private bool Admit(string what, SignatureDomain domain, ByteString ids, ReadOnlyMemory<byte>[] extra, long timeMs, ByteString nonce, ByteString signature,
        out string? problem)
    {
        if (verifier is null)
        {
            problem = $"a {what}, which this storage peer cannot check without the volume public key (volume.pub)";
            return false;
        }

        if (ids.Length > ChunkService.MaxIdsPerMessage * ChunkId.Size || ids.Length % ChunkId.Size != 0 || nonce.Length != NonceSize)
        {
            problem = $"a malformed {what}";
            return false;
        }

        long nowMs = _now().ToUnixTimeMilliseconds();
        long skewMs = (long)maxSkew.TotalMilliseconds;
        if (timeMs < nowMs - skewMs || timeMs > nowMs + skewMs)
        {
            problem = $"a {what} made at {DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(timeMs, 0, 253402300799999)):u}, outside {maxSkew.TotalMinutes:F0} min of this node's clock (old, or replayed)";
            return false;
        }

        ReadOnlyMemory<byte>[] parts = [ids.Memory, .. extra, BigEndian.Int64(timeMs), nonce.Memory];
        if (!verifier.Verify(domain, signature.Span, parts))
        {
            problem = $"a {what} the volume key did not sign";
            return false;
        }

        string key = Convert.ToHexString(nonce.Span);
        lock (_lock)
        {
            if (_seen.Count >= MaxRemembered)
            {
                foreach (string old in _seen.Where(p => p.Value < nowMs - skewMs).Select(p => p.Key).ToList())
                {
                    _seen.Remove(old);
                }
            }

            if (_seen.ContainsKey(key))
            {
                problem = $"a {what} seen before (replayed)";
                return false;
            }

            if (_seen.Count >= MaxRemembered)
            {
                problem = $"more notices than this node remembers at once; a {what} refused";
                return false;
            }

            _seen[key] = timeMs;
        }

        problem = null;
        return true;
    }

    private static T? Parse<T>(MessageParser<T> parser, ReadOnlyMemory<byte> body, string what, out string? problem) where T : class, IMessage<T>
    {
        try
        {
            problem = null;
            return parser.ParseFrom(body.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            problem = $"an unreadable {what} ({e.Message})";
            return null;
        }
    }
}
