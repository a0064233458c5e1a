namespace NexNet.IntegrationTests.Node;

/// <summary>Tests that run several node processes moving GiBs: one at a time, alone, so they do not starve each other (or other tests) of the two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeProcessTests
{
    public const string Name = "node processes";
}
