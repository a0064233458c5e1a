using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using NexNet.Crypto;
using NexNet.Node.Internal;
using NexNet.Node.Protocol;

namespace NexNet.Node;

/// <summary>
/// Collect notices: what a member tells storage peers it deleted as garbage, so they delete their copies
/// too. A storage peer cannot read the tree to check, so a notice is signed by the volume key, bound to
/// its chunk ids and its time, and acted on once: a notice outside the skew bound of the receiver's
/// clock, or one whose nonce it has already seen, is refused. A holder of the network key alone can
/// therefore make nobody delete anything, and a recorded notice cannot be replayed later against
/// chunks written again since.
/// </summary>
internal sealed class CollectNotices(VolumeVerifier? verifier, TimeSpan maxSkew, Func<DateTimeOffset>? now = null)
{
    /// <summary>Nonces remembered at most; a notice past this many within the window is refused (a member sends one per 4,096 chunks collected).</summary>
    private const int MaxRemembered = 100_000;

    private readonly Func<DateTimeOffset> _now = now ?? (() => DateTimeOffset.UtcNow);
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>A signed notice for <paramref name="ids"/>, made now.</summary>
    public static byte[] Make(VolumeSigner signer, IReadOnlyCollection<ChunkId> ids, DateTimeOffset at)
    {
        ByteString packed = EntryCodec.PackIds(ids);
        long time = at.ToUnixTimeMilliseconds();
        byte[] nonce = RandomNumberGenerator.GetBytes(16);
        return new CollectNotice
        {
            Ids = packed,
            TimeMs = time,
            Nonce = UnsafeByteOperations.UnsafeWrap(nonce),
            Signature = UnsafeByteOperations.UnsafeWrap(signer.Sign(SignatureDomain.Collect, packed.Memory, TimeBytes(time), nonce)),
        }.ToByteArray();
    }

    /// <summary>The ids a notice names if it is to be acted on; otherwise null and why.</summary>
    public IReadOnlyList<ChunkId>? Accept(ReadOnlyMemory<byte> body, out string? problem)
    {
        CollectNotice notice;
        try
        {
            notice = CollectNotice.Parser.ParseFrom(body.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            problem = $"an unreadable collect notice ({e.Message})";
            return null;
        }

        if (verifier is null)
        {
            problem = "a collect notice, which this storage peer cannot check without the volume public key (volume.pub)";
            return null;
        }

        if (notice.Ids.Length > ChunkService.MaxIdsPerMessage * ChunkId.Size || notice.Ids.Length % ChunkId.Size != 0 || notice.Nonce.Length != 16)
        {
            problem = "a malformed collect notice";
            return null;
        }

        if (!verifier.Verify(SignatureDomain.Collect, notice.Signature.Span, notice.Ids.Memory, TimeBytes(notice.TimeMs), notice.Nonce.Memory))
        {
            problem = "a collect notice the volume key did not sign";
            return null;
        }

        long nowMs = _now().ToUnixTimeMilliseconds();
        long skewMs = (long)maxSkew.TotalMilliseconds;
        if (notice.TimeMs < nowMs - skewMs || notice.TimeMs > nowMs + skewMs)
        {
            problem = $"a collect notice made at {DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(notice.TimeMs, 0, 253402300799999)):u}, outside {maxSkew.TotalMinutes:F0} min of this node's clock (old, or replayed)";
            return null;
        }

        string nonce = Convert.ToHexString(notice.Nonce.Span);
        lock (_lock)
        {
            if (_seen.Count >= MaxRemembered)
            {
                foreach (string old in _seen.Where(p => p.Value < nowMs - skewMs).Select(p => p.Key).ToList())
                {
                    _seen.Remove(old);
                }
            }

            if (_seen.ContainsKey(nonce) || _seen.Count >= MaxRemembered)
            {
                problem = _seen.ContainsKey(nonce) ? "a collect notice seen before (replayed)" : "more collect notices than this node remembers at once";
                return null;
            }

            _seen[nonce] = notice.TimeMs;
        }

        problem = null;
        return EntryCodec.UnpackIds(notice.Ids.Span);
    }

    private static byte[] TimeBytes(long time)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, time);
        return bytes;
    }
}
