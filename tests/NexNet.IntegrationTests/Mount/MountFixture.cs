namespace NexNet.IntegrationTests.Mount;

/// <summary>One <c>nexnet mount</c> shared by a test class (each test works in its own folder of it), plus a scratch folder on the plain disk.</summary>
public sealed class MountFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private NexnetMountProcess? _mount;

    internal NexnetMountProcess Mount => _mount ?? throw new InvalidOperationException("not started");

    public string Scratch => _dir.Combine("scratch");

    public string DataDirectory => _dir.Combine("data");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Scratch);
        _mount = await NexnetMountProcess.StartAsync(DataDirectory, _dir.Combine("mnt"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_mount is not null)
        {
            await _mount.DisposeAsync();
        }

        _dir.Dispose();
    }
}

/// <summary>Mount tests run one class at a time: each drives real programs and the disk hard.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MountTests
{
    public const string Name = "mount";
}
