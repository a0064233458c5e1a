using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using NexNet.Node.Replication;
using NexNet.P2P;

namespace NexNet.UnitTests.Node;

/// <summary>Membership is right whatever order the network's connect and disconnect events arrive in.</summary>
public sealed class MembershipTests
{
    /// <summary>A dead-after below zero: any disconnected peer is gone at the next sweep.</summary>
    private static readonly TimeSpan s_goneAtOnce = TimeSpan.FromTicks(-1);
    private static readonly NodeId s_self = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
    private readonly NodeId _peer = NodeId.FromBytes(RandomNumberGenerator.GetBytes(32));
    private readonly HashSet<NodeId> _connected = [];

    private Membership Create(TimeSpan deadAfter) => new(s_self, _connected.Contains, deadAfter, [], NullLogger.Instance);

    [Fact]
    public void A_peer_whose_close_is_reported_before_its_arrival_joins_all_the_same()
    {
        using Membership membership = Create(TimeSpan.FromHours(1));
        int changes = 0;
        membership.Changed += () => changes++;

        // First connection: admitted, then closed by the other side before its arrival event ran.
        membership.Look(_peer); // the close, reported first
        membership.Look(_peer); // the arrival, reported late: the connection is already gone
        Assert.Equal([s_self, _peer], membership.Members);

        // The surviving connection arrives.
        _connected.Add(_peer);
        membership.Look(_peer);
        Assert.Equal([s_self, _peer], membership.Members);
        Assert.Equal(1, changes);
    }

    [Fact]
    public void A_peer_reported_connected_after_its_connection_closed_is_still_declared_gone()
    {
        using Membership membership = Create(s_goneAtOnce);
        _connected.Add(_peer);
        membership.Look(_peer);
        _connected.Remove(_peer);
        membership.Look(_peer); // the close
        membership.Look(_peer); // a late arrival event of the same, closed connection
        membership.Sweep();
        Assert.Equal([s_self], membership.Members);
    }

    [Fact]
    public void A_connected_peer_is_never_swept()
    {
        using Membership membership = Create(s_goneAtOnce);
        _connected.Add(_peer);
        membership.Look(_peer);
        membership.Sweep();
        Assert.Equal([s_self, _peer], membership.Members);
    }

    [Fact]
    public void A_peer_that_rejoins_after_it_was_declared_gone_is_a_member_again()
    {
        using Membership membership = Create(s_goneAtOnce);
        int changes = 0;
        membership.Changed += () => changes++;
        membership.Look(_peer); // connected and gone before it was looked at
        membership.Sweep();
        _connected.Add(_peer);
        membership.Look(_peer);
        Assert.Equal([s_self, _peer], membership.Members);
        Assert.Equal(3, changes);
    }
}
