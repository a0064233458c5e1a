namespace NexNet.IntegrationTests.Mount;

/// <summary>
/// A real <c>nexnet mount</c> process with its node on 127.0.0.1, port 0. Waits for its "mounted" line;
/// disposing stops it (see <see cref="NexnetProcess"/>) and makes sure nothing stays mounted even if the
/// test killed it.
/// </summary>
internal sealed class NexnetMountProcess : NexnetProcess
{
    private NexnetMountProcess(ChildProcess process, string mountpoint, string dataDirectory, string address) : base(process, dataDirectory, address) =>
        Mountpoint = mountpoint;

    public string Mountpoint { get; }

    protected override string What => $"nexnet mount {Mountpoint}";

    public static async Task<NexnetMountProcess> StartAsync(string dataDirectory, string mountpoint, params string[] extra)
    {
        Assert.True(File.Exists("/dev/fuse"), "/dev/fuse is missing: mount tests need FUSE (modprobe fuse)");
        Directory.CreateDirectory(mountpoint);
        (ChildProcess process, string mounted) = await StartAndWaitAsync(["mount", mountpoint, "--data", dataDirectory, "--listen", "127.0.0.1:0", .. extra],
            "nexnet: mounted ", TimeSpan.FromSeconds(60), "its mounted line");
        return new NexnetMountProcess(process, Path.GetFullPath(mountpoint), dataDirectory, ListenAddressIn(mounted));
    }

    public string PathOf(string relative) => Path.Combine(Mountpoint, relative);

    public static bool IsMounted(string mountpoint) =>
        File.ReadLines("/proc/mounts").Any(l => l.Split(' ') is { Length: > 1 } f && f[1] == Path.GetFullPath(mountpoint));

    protected override async Task AfterExitAsync()
    {
        if (IsMounted(Mountpoint))
        {
            await Shell.RunAsync($"fusermount3 -u -z '{Mountpoint}' || umount -l '{Mountpoint}'");
        }
    }
}
