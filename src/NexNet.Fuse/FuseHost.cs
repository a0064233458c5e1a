using System.Runtime.InteropServices;
using System.Text;
using NexNet.Fuse.Native;

namespace NexNet.Fuse;

/// <summary>
/// One mounted file system: fuse_new, fuse_mount with <c>auto_unmount</c> (so even kill -9 leaves no
/// stale mount: fusermount3 unmounts when the process's /dev/fuse descriptor closes), and the
/// multi-threaded loop on a thread of its own. Dispose unmounts cleanly and waits for the loop.
/// </summary>
public sealed unsafe class FuseHost : IDisposable
{
    private readonly nint _fuse;
    private readonly FuseOperations* _operations;
    private readonly nint[] _argv;
    private readonly nint _argvBlock;
    private readonly GCHandle _fileSystem;
    private readonly Thread _loop;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private FuseHost(nint fuse, FuseOperations* operations, nint[] argv, nint argvBlock, GCHandle fileSystem, string mountpoint)
    {
        _fuse = fuse;
        _operations = operations;
        _argv = argv;
        _argvBlock = argvBlock;
        _fileSystem = fileSystem;
        Mountpoint = mountpoint;
        _loop = new Thread(RunLoop) { IsBackground = true, Name = "fuse-loop" };
        _loop.Start();
    }

    public string Mountpoint { get; }

    /// <summary>Completes when the loop has ended: after Dispose, or when someone unmounted from outside (<c>fusermount3 -u</c>, <c>umount</c>).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>True on a thread that is running a FUSE callback: work there must not wait on the kernel's view of the mount (an invalidation, say).</summary>
    public static bool OnCallbackThread => FuseCallbacks.OnCallbackThread;

    /// <summary>Reports an exception that reached a callback (answered -EIO); for the log.</summary>
    public static Action<string, Exception>? UnexpectedError
    {
        get => FuseCallbacks.OnUnexpected;
        set => FuseCallbacks.OnUnexpected = value;
    }

    /// <summary>
    /// Drops the kernel's cached attributes and pages of <paramref name="path"/> (a peer changed it).
    /// Must not be called on a callback thread: the kernel may wait for that very callback.
    /// </summary>
    public void InvalidatePath(string path)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            _ = FuseApi.InvalidatePath(_fuse, p); // -ENOENT when the kernel has nothing cached: fine
        }
    }

    /// <summary>Mounts <paramref name="fileSystem"/> at <paramref name="mountpoint"/>; a clear error if FUSE or the mountpoint is unusable.</summary>
    public static FuseHost Mount(string mountpoint, IFuseFileSystem fileSystem, string fsName = "nexnet")
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        LibFuse.EnsureSupported();
        if (!File.Exists("/dev/fuse"))
        {
            throw new FuseUnavailableException("/dev/fuse is missing: load the fuse module (modprobe fuse) or run with --device /dev/fuse in a container");
        }

        string full = Path.GetFullPath(mountpoint);
        if (MountpointProblem(full) is { } problem)
        {
            throw new FuseUnavailableException(problem);
        }

        string[] arguments = ["nexnet", "-o", $"fsname={fsName},subtype=nexnet,auto_unmount"];
        nint[] argv = [.. arguments.Select(a => Marshal.StringToCoTaskMemUTF8(a))];
        nint argvBlock = (nint)NativeMemory.AllocZeroed((nuint)((argv.Length + 1) * sizeof(nint)));
        for (int i = 0; i < argv.Length; i++)
        {
            ((nint*)argvBlock)[i] = argv[i];
        }

        var operations = (FuseOperations*)NativeMemory.AllocZeroed((nuint)sizeof(FuseOperations));
        FuseCallbacks.Fill(operations);
        GCHandle handle = GCHandle.Alloc(fileSystem);
        var args = new FuseArgs { Argc = argv.Length, Argv = argvBlock, Allocated = 0 };
        nint fuse = FuseApi.New(&args, operations, (nuint)sizeof(FuseOperations), GCHandle.ToIntPtr(handle));
        if (fuse == 0)
        {
            Free(operations, argv, argvBlock, handle);
            throw new FuseUnavailableException("fuse_new failed (libfuse refused the options); see its message above");
        }

        byte[] path = Encoding.UTF8.GetBytes(full + "\0");
        int rc;
        fixed (byte* p = path)
        {
            rc = FuseApi.Mount(fuse, p);
        }

        if (rc != 0)
        {
            FuseApi.Destroy(fuse);
            Free(operations, argv, argvBlock, handle);
            throw new FuseUnavailableException($"cannot mount at {full}: it may be busy, not empty, or need `fuse3` installed (fusermount3)");
        }

        TuneReadAhead(full);
        return new FuseHost(fuse, operations, argv, argvBlock, handle, full);
    }

    /// <summary>Why <paramref name="mountpoint"/> cannot be mounted on, and what to do: missing, already mounted (busy), or not empty. Null when it can.</summary>
    public static string? MountpointProblem(string mountpoint)
    {
        string full = Path.GetFullPath(mountpoint);
        if (!Directory.Exists(full))
        {
            return $"mountpoint {full} does not exist: create it with `mkdir -p {full}`";
        }

        if (File.ReadLines("/proc/mounts").Any(l => l.Split(' ') is { Length: > 1 } f && f[1] == full.Replace(" ", "\\040", StringComparison.Ordinal)))
        {
            return $"{full} is already a mount point (busy): unmount it first with `fusermount3 -u {full}`";
        }

        if (Directory.EnumerateFileSystemEntries(full).Any())
        {
            return $"mountpoint {full} is not empty: mount on an empty directory (its files would be hidden while mounted)";
        }

        return null;
    }

    /// <summary>
    /// Reads reach us in 128 KiB requests unless the mount's backing device allows more read-ahead; 1 MiB
    /// (one chunk) measured faster. Best effort: it needs root, and a failure changes only speed.
    /// </summary>
    private static void TuneReadAhead(string mountpoint)
    {
        try
        {
            // The device number comes from mountinfo: a stat of the mountpoint would wait for this very
            // file system, whose loop is not running yet.
            foreach (string line in File.ReadLines("/proc/self/mountinfo"))
            {
                string[] fields = line.Split(' ');
                if (fields.Length > 4 && fields[4] == mountpoint.Replace(" ", "\\040", StringComparison.Ordinal))
                {
                    string bdi = $"/sys/class/bdi/{fields[2]}/read_ahead_kb";
                    if (File.Exists(bdi))
                    {
                        File.WriteAllText(bdi, "1024");
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void RunLoop()
    {
        nint config = FuseApi.LoopConfigCreate();
        FuseApi.LoopConfigSetMaxThreads(config, 16);
        _ = FuseApi.LoopMultiThreaded(_fuse, config); // returns when unmounted; Dispose does the rest
        FuseApi.LoopConfigDestroy(config);
        _stopped.TrySetResult();
    }

    /// <summary>Unmounts, waits for the loop to end, frees everything. Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        FuseApi.Exit(_fuse);
        FuseApi.Unmount(_fuse); // the loop's read of /dev/fuse now fails and the loop returns
        _loop.Join(TimeSpan.FromSeconds(10));
        FuseApi.Destroy(_fuse);
        Free(_operations, _argv, _argvBlock, _fileSystem);
    }

    private static void Free(FuseOperations* operations, nint[] argv, nint argvBlock, GCHandle handle)
    {
        NativeMemory.Free(operations);
        foreach (nint a in argv)
        {
            Marshal.FreeCoTaskMem(a);
        }

        NativeMemory.Free((void*)argvBlock);
        handle.Free();
    }
}
