namespace NexNet.P2P.Wire;

/// <summary>
/// Envelope types the network layer owns. The node layer registers its own types from
/// <see cref="FirstApplicationType"/> on; the network never interprets them.
/// </summary>
public static class MessageType
{
    public const uint Hello = 1;
    public const uint Proof = 2;
    public const uint Refuse = 3;
    public const uint Welcome = 4;
    public const uint Peers = 5;
    public const uint Ping = 6;
    public const uint Pong = 7;
    public const uint Bye = 8;

    public const uint FirstApplicationType = 100;
}
