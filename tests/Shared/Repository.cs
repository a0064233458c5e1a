namespace NexNet.Tests.Shared;

/// <summary>The checkout the tests were built from (for its scripts and README).</summary>
internal static class Repository
{
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "NexNet.Fs.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"no NexNet.Fs.sln above {AppContext.BaseDirectory}");
        }
    }
}
