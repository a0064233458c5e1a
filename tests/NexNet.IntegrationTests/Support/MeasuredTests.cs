namespace NexNet.IntegrationTests.Support;

/// <summary>
/// Tests whose assertions measure time or memory (deadlines for a mesh to form or a peer to be served,
/// RSS bounds) run alone, after the parallel ones: their limits then speak of the code, not of the 4 GiB
/// copy, the quick-start clone or the WebDAV suite that would otherwise share the two cores with them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredTests
{
    public const string Name = "measured";
}
