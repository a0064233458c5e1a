using System.Runtime.InteropServices;

namespace NexNet.Fuse.Native;

/// <summary>
/// The libfuse3 functions the host calls, bound by their exported (versioned) names: <c>fuse_new_31</c>
/// (FUSE_3.1) and <c>fuse_loop_mt_312</c> (FUSE_3.12, taking a loop config) are what fuse.h maps
/// <c>fuse_new</c> and <c>fuse_loop_mt</c> to under FUSE_USE_VERSION 31 and 3.12+.
/// </summary>
internal static unsafe class FuseApi
{
    private static nint Export(string name) => NativeLibrary.GetExport(LibFuse.Handle, name);

    public static nint New(FuseArgs* args, FuseOperations* operations, nuint size, nint privateData) =>
        ((delegate* unmanaged<FuseArgs*, FuseOperations*, nuint, nint, nint>)Export("fuse_new_31"))(args, operations, size, privateData);

    public static int Mount(nint fuse, byte* mountpoint) => ((delegate* unmanaged<nint, byte*, int>)Export("fuse_mount"))(fuse, mountpoint);

    public static void Unmount(nint fuse) => ((delegate* unmanaged<nint, void>)Export("fuse_unmount"))(fuse);

    public static void Destroy(nint fuse) => ((delegate* unmanaged<nint, void>)Export("fuse_destroy"))(fuse);

    public static void Exit(nint fuse) => ((delegate* unmanaged<nint, void>)Export("fuse_exit"))(fuse);

    public static int LoopMultiThreaded(nint fuse, nint config) => ((delegate* unmanaged<nint, nint, int>)Export("fuse_loop_mt_312"))(fuse, config);

    public static nint LoopConfigCreate() => ((delegate* unmanaged<nint>)Export("fuse_loop_cfg_create"))();

    public static void LoopConfigDestroy(nint config) => ((delegate* unmanaged<nint, void>)Export("fuse_loop_cfg_destroy"))(config);

    public static void LoopConfigSetMaxThreads(nint config, uint threads) => ((delegate* unmanaged<nint, uint, void>)Export("fuse_loop_cfg_set_max_threads"))(config, threads);

    public static int InvalidatePath(nint fuse, byte* path) => ((delegate* unmanaged<nint, byte*, int>)Export("fuse_invalidate_path"))(fuse, path);

    public static FuseContext* Context() => ((delegate* unmanaged<FuseContext*>)Export("fuse_get_context"))();
}
