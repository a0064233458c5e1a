using System.Reflection;
using System.Xml.Linq;
using NexNet.Node;
using NexNet.P2P;
using NexNet.Storage;
using NexNet.Tests.Shared;

namespace NexNet.UnitTests.Architecture;

/// <summary>
/// What each layer may know and how the node is wired, checked on the built assemblies (and the
/// project files), so a change that breaks it fails here rather than in a reader's head.
/// </summary>
public sealed class LayeringTests
{
    private static readonly Assembly s_p2p = typeof(PeerNetwork).Assembly;
    private static readonly Assembly s_storage = typeof(BlobStore).Assembly;
    private static readonly Assembly s_node = typeof(NexNetNode).Assembly;

    [Fact]
    public void The_network_layer_does_not_reference_storage_or_sqlite()
    {
        string[] references = [.. s_p2p.GetReferencedAssemblies().Select(a => a.Name!)];
        Assert.DoesNotContain("NexNet.Storage", references);
        Assert.DoesNotContain("Microsoft.Data.Sqlite", references);

        XDocument project = XDocument.Load(Path.Combine(Repository.Root, "src", "NexNet.P2P", "NexNet.P2P.csproj"));
        string[] projectReferences = [.. project.Descendants("ProjectReference").Select(r => (string)r.Attribute("Include")!)];
        Assert.Equal([@"..\NexNet.Crypto\NexNet.Crypto.csproj"], projectReferences);
    }

    [Fact]
    public void No_thread_static_state_in_storage_or_the_node()
    {
        // Durability is a parameter of the transaction that needs it; thread state does not follow an await.
        FieldInfo[] threadStatic = [.. new[] { s_storage, s_node }.SelectMany(a => a.GetTypes()).SelectMany(AllFields)
            .Where(f => f.IsDefined(typeof(ThreadStaticAttribute)))];
        Assert.Empty(threadStatic.Select(f => $"{f.DeclaringType}.{f.Name}"));
    }

    [Fact]
    public void No_settable_callback_in_the_node_storage_or_network_layers()
    {
        // Collaborators come in through constructors; a delegate property or field set later hides the graph.
        var found = new List<string>();
        foreach (Type type in new[] { s_p2p, s_storage, s_node }.SelectMany(a => a.GetTypes()))
        {
            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                // init-only (a record's positional value, set as it is made) counts as the constructor's
                bool initOnly = property.SetMethod?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)) ?? false;
                if (typeof(Delegate).IsAssignableFrom(property.PropertyType) && property.SetMethod is not null && !initOnly)
                {
                    found.Add($"property {type}.{property.Name}");
                }
            }

            HashSet<string> events = [.. type.GetEvents(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly).Select(e => e.Name)];
            foreach (FieldInfo field in AllFields(type))
            {
                bool generated = field.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)) || type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute));
                if (typeof(Delegate).IsAssignableFrom(field.FieldType) && !field.IsInitOnly && !events.Contains(field.Name) && !generated && !field.IsLiteral)
                {
                    found.Add($"field {type}.{field.Name}");
                }
            }
        }

        Assert.Empty(found);
    }

    [Fact]
    public void The_node_raises_no_event_for_another_component_to_wire_itself_to()
    {
        // Events are for front ends (a path changed: drop a cache) and for membership changes; the tree
        // hands deferred records to the replicator and peers it was built with.
        string[] events = [.. s_node.GetTypes()
            .SelectMany(t => t.GetEvents(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(e => $"{e.DeclaringType!.Name}.{e.Name}").Order()];
        Assert.Equal(["Membership.Changed", "Tree.Changed", "Volume.Changed"], events);
    }

    [Fact]
    public void No_source_file_over_450_lines_without_a_first_line_saying_why_it_stays_whole()
    {
        string src = Path.Combine(Repository.Root, "src");
        string[] long_ = [.. Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Count() > 450 && !File.ReadLines(f).First().StartsWith("// Kept whole", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(src, f))];
        Assert.Empty(long_);
    }

    private static IEnumerable<FieldInfo> AllFields(Type type) =>
        type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
}
