using NexNet.Node;
using NexNet.Node.Protocol;
using NexNet.Node.Sync;
using NexNet.P2P;

namespace NexNet.UnitTests.Node;

/// <summary>The tree's lookup cache: what it may answer without the database, and when it must not.</summary>
public sealed class TreeCacheTests
{
    private static readonly NodeId s_origin = NodeId.FromBytes(new byte[NodeId.Size]);
    private long _clock;

    private (Entry, RecordVersion) Live(string path, Entry.Types.Kind kind = Entry.Types.Kind.File) =>
        (new Entry { Path = path, Kind = kind }, new RecordVersion(++_clock, s_origin));

    private (Entry, RecordVersion) Tombstone(string path) =>
        (new Entry { Path = path, Deleted = true }, new RecordVersion(++_clock, s_origin));

    [Fact]
    public void A_name_not_cached_in_a_complete_directory_is_known_absent_and_elsewhere_unknown()
    {
        var cache = new TreeCache(1 << 20);
        cache.MarkComplete("/src");
        Assert.True(cache.TryFind("/src/new.c", out var found, out _));
        Assert.Null(found);
        Assert.True(cache.TryHasChildren("/src/new.c", out bool has, out _));
        Assert.False(has);
        Assert.False(cache.TryFind("/other/new.c", out _, out _));
        Assert.False(cache.TryHasChildren("/other", out _, out _));
    }

    [Fact]
    public void A_stored_change_is_found_and_makes_its_parent_have_children()
    {
        var cache = new TreeCache(1 << 20);
        cache.MarkComplete("/src");
        var file = Live("/src/a.c");
        cache.Stored("/src/a.c", file);
        Assert.True(cache.TryFind("/src/a.c", out var found, out _));
        Assert.Equal(file, found);
        Assert.True(cache.TryHasChildren("/src", out bool has, out _));
        Assert.True(has);
    }

    [Fact]
    public void An_entry_arriving_below_a_missing_directory_makes_that_directory_implicitly_present()
    {
        var cache = new TreeCache(1 << 20);
        cache.MarkComplete("/d");
        cache.Stored("/d/x/y", Live("/d/x/y")); // a peer's record before its directory's
        Assert.True(cache.TryFind("/d/x", out var found, out _));
        Assert.Null(found); // no record of its own ...
        Assert.True(cache.TryHasChildren("/d/x", out bool has, out _));
        Assert.True(has); // ... but it has children, so it is listed as a directory
    }

    [Fact]
    public void A_deletion_makes_whether_the_parent_has_children_unknown_again()
    {
        var cache = new TreeCache(1 << 20);
        cache.MarkComplete("/d");
        cache.Stored("/d/sub", Live("/d/sub", Entry.Types.Kind.Directory));
        cache.Stored("/d/sub/a", Live("/d/sub/a"));
        cache.Stored("/d/sub/b", Live("/d/sub/b"));
        cache.Stored("/d/sub/a", Tombstone("/d/sub/a"));
        Assert.False(cache.TryHasChildren("/d/sub", out _, out _)); // b is still there: only the database knows
        Assert.True(cache.TryFind("/d/sub/a", out var found, out _));
        Assert.True(found!.Value.Entry.Deleted);
    }

    [Fact]
    public void A_lookup_that_read_the_database_before_a_change_is_not_cached()
    {
        var cache = new TreeCache(1 << 20);
        Assert.False(cache.TryFind("/f", out _, out long generation));
        var changed = Live("/f");
        cache.Stored("/f", changed);
        cache.OfferFound("/f", null, generation); // what the lookup read before the change
        Assert.True(cache.TryFind("/f", out var found, out _));
        Assert.Equal(changed, found);
    }

    [Fact]
    public void Past_its_bound_it_forgets_everything_at_once_completeness_included()
    {
        var cache = new TreeCache(4096);
        cache.MarkComplete("/big");
        for (int i = 0; i < 200; i++)
        {
            cache.Stored($"/big/file-{i:D4}", Live($"/big/file-{i:D4}"));
        }

        Assert.False(cache.TryFind("/big/never-stored", out _, out _)); // no longer claims to know every name
        Assert.False(cache.TryFind("/big/file-0000", out _, out _));
    }

    [Fact]
    public void Clear_drops_what_a_failed_transaction_stored()
    {
        var cache = new TreeCache(1 << 20);
        cache.MarkComplete("/d");
        cache.Stored("/d/a", Live("/d/a"));
        cache.Clear();
        Assert.False(cache.TryFind("/d/a", out _, out _));
        Assert.False(cache.TryFind("/d/b", out _, out _));
    }
}
