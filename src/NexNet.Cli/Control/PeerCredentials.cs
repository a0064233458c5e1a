using System.Net.Sockets;
using System.Runtime.InteropServices;
using NexNet.Cli.Internal;

namespace NexNet.Cli.Control;

/// <summary>
/// Who is at the other end of a control socket connection, from the kernel (SO_PEERCRED on Linux): the
/// node serves its own user and root, whatever the modes of the socket and its folder have become.
/// </summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The connecting process's id and user id (struct ucred: pid, uid, gid); null where the kernel does not say (not Linux).</summary>
    public static (int Pid, uint Uid)? Of(Socket client)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> ucred = stackalloc byte[12];
        int length = client.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 8)
        {
            throw new SocketException((int)SocketError.ProtocolNotSupported);
        }

        return (MemoryMarshal.Read<int>(ucred), MemoryMarshal.Read<uint>(ucred[4..]));
    }

    /// <summary>True when <paramref name="uid"/> may use this node: the user it runs as, or root.</summary>
    public static bool IsAllowed(uint uid) => uid == 0 || uid == ProcessPermissions.EffectiveUserId();
}
