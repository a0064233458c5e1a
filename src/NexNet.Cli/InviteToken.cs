using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using NexNet.Crypto;

namespace NexNet.Cli;

/// <summary>
/// What <c>nexnet invite</c> prints and <c>nexnet join</c> takes: a bootstrap address, the network secret
/// and, for a member, the volume secret, or for a storage peer the volume's public signing key (so it can
/// tell what members signed) — one line, <c>nexnet1.</c> then base64url of
/// <c>flags · address length · address · network secret · [volume secret | volume public key] · check</c>.
/// The check (8 bytes of SHA-256 over the rest) catches a token cut short or mistyped before anything is
/// created. A token is a secret: whoever has it can join (and, for a member token, read everything).
/// </summary>
internal sealed record InviteToken(string Address, byte[] NetworkSecret, byte[]? VolumeSecret, byte[]? VolumePublicKey = null)
{
    private const string Prefix = "nexnet1.";
    private const byte MemberFlag = 1;
    private const byte PublicKeyFlag = 2;
    private const int CheckSize = 8;

    public bool IsMember => VolumeSecret is not null;

    public string Encode()
    {
        byte[] address = Encoding.UTF8.GetBytes(Address);
        byte[]? publicKey = IsMember ? null : VolumePublicKey;
        var payload = new List<byte> { (byte)((IsMember ? MemberFlag : 0) | (publicKey is null ? 0 : PublicKeyFlag)), checked((byte)address.Length) };
        payload.AddRange(address);
        payload.AddRange(NetworkSecret);
        if (VolumeSecret is not null)
        {
            payload.AddRange(VolumeSecret);
        }
        else if (publicKey is not null)
        {
            payload.AddRange(publicKey);
        }

        payload.AddRange(Check([.. payload]));
        return Prefix + Base64Url.EncodeToString([.. payload]);
    }

    public static InviteToken Decode(string token)
    {
        token = token.Trim();
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new CliException($"this is not a NexNet invite token (one starts with \"{Prefix}\"): ask for a new one with `nexnet invite`", ExitCodes.Integrity);
        }

        var damaged = new CliException("the invite token is damaged or cut short (its check does not match): copy the whole token again, it is one line", ExitCodes.Integrity);
        byte[] payload;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(Prefix.Length));
        }
        catch (FormatException)
        {
            throw damaged;
        }

        if (payload.Length < 2 + CheckSize || !Check(payload.AsSpan(0, payload.Length - CheckSize)).AsSpan().SequenceEqual(payload.AsSpan(payload.Length - CheckSize)))
        {
            throw damaged;
        }

        bool member = (payload[0] & MemberFlag) != 0;
        bool publicKey = !member && (payload[0] & PublicKeyFlag) != 0;
        int addressLength = payload[1];
        int expected = 2 + addressLength + KeyFile.SecretSize + (member ? KeyFile.SecretSize : 0) + (publicKey ? VolumeVerifier.PublicKeySize : 0) + CheckSize;
        if (payload.Length != expected)
        {
            throw damaged;
        }

        string address = Encoding.UTF8.GetString(payload, 2, addressLength);
        int keys = 2 + addressLength + KeyFile.SecretSize;
        byte[] network = payload.AsSpan(2 + addressLength, KeyFile.SecretSize).ToArray();
        byte[]? volume = member ? payload.AsSpan(keys, KeyFile.SecretSize).ToArray() : null;
        byte[]? verifyKey = publicKey ? payload.AsSpan(keys, VolumeVerifier.PublicKeySize).ToArray() : null;
        if (verifyKey is not null)
        {
            try
            {
                using var _ = new VolumeVerifier(verifyKey); // a point of P-256, or the node would not start
            }
            catch (IntegrityException)
            {
                throw damaged;
            }
        }

        return new InviteToken(address, network, volume, verifyKey);
    }

    private static byte[] Check(ReadOnlySpan<byte> data) => SHA256.HashData(data)[..CheckSize];
}
