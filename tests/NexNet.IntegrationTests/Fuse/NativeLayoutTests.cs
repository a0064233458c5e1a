using System.Globalization;
using System.Runtime.InteropServices;
using NexNet.Fuse.Native;

namespace NexNet.IntegrationTests.Fuse;

/// <summary>
/// Every size, member offset and flag bit the libfuse3 binding relies on, checked against the installed
/// headers: a small C program (Fuse/layout.c) is compiled with gcc and its report compared line by line.
/// </summary>
public sealed class NativeLayoutTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static readonly bool s_arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>The binding's side: what C# says each reported item is.</summary>
    private static readonly Dictionary<string, long> s_binding = new(StringComparer.Ordinal)
    {
        ["size fuse_operations"] = Marshal.SizeOf<FuseOperations>(),
        ["size fuse_file_info"] = Marshal.SizeOf<FuseFileInfo>(),
        ["size fuse_config"] = Marshal.SizeOf<FuseConfig>(),
        ["size fuse_conn_info"] = Marshal.SizeOf<FuseConnInfo>(),
        ["size fuse_context"] = Marshal.SizeOf<FuseContext>(),
        ["size fuse_args"] = Marshal.SizeOf<FuseArgs>(),
        ["size stat"] = s_arm64 ? Marshal.SizeOf<StatArm64>() : Marshal.SizeOf<StatX64>(),
        ["size statvfs"] = Marshal.SizeOf<StatVfs>(),
        ["offset fuse_operations.getattr"] = Off<FuseOperations>(nameof(FuseOperations.Getattr)),
        ["offset fuse_operations.readdir"] = Off<FuseOperations>(nameof(FuseOperations.Readdir)),
        ["offset fuse_operations.init"] = Off<FuseOperations>(nameof(FuseOperations.Init)),
        ["offset fuse_operations.create"] = Off<FuseOperations>(nameof(FuseOperations.Create)),
        ["offset fuse_operations.utimens"] = Off<FuseOperations>(nameof(FuseOperations.Utimens)),
        ["offset fuse_operations.lseek"] = Off<FuseOperations>(nameof(FuseOperations.Lseek)),
        ["offset fuse_file_info.flags"] = Off<FuseFileInfo>(nameof(FuseFileInfo.Flags)),
        ["offset fuse_file_info.fh"] = Off<FuseFileInfo>(nameof(FuseFileInfo.Fh)),
        ["offset fuse_file_info.lock_owner"] = Off<FuseFileInfo>(nameof(FuseFileInfo.LockOwner)),
        ["offset fuse_file_info.poll_events"] = Off<FuseFileInfo>(nameof(FuseFileInfo.PollEvents)),
        ["bit fuse_file_info.direct_io"] = FuseFileInfo.DirectIo,
        ["bit fuse_file_info.keep_cache"] = FuseFileInfo.KeepCache,
        ["bit fuse_file_info.nonseekable"] = FuseFileInfo.NonSeekable,
        ["bit fuse_file_info.noflush"] = FuseFileInfo.NoFlush,
        ["offset fuse_config.entry_timeout"] = Off<FuseConfig>(nameof(FuseConfig.EntryTimeout)),
        ["offset fuse_config.negative_timeout"] = Off<FuseConfig>(nameof(FuseConfig.NegativeTimeout)),
        ["offset fuse_config.attr_timeout"] = Off<FuseConfig>(nameof(FuseConfig.AttrTimeout)),
        ["offset fuse_config.hard_remove"] = Off<FuseConfig>(nameof(FuseConfig.HardRemove)),
        ["offset fuse_config.use_ino"] = Off<FuseConfig>(nameof(FuseConfig.UseIno)),
        ["offset fuse_config.direct_io"] = Off<FuseConfig>(nameof(FuseConfig.DirectIo)),
        ["offset fuse_config.kernel_cache"] = Off<FuseConfig>(nameof(FuseConfig.KernelCache)),
        ["offset fuse_config.auto_cache"] = Off<FuseConfig>(nameof(FuseConfig.AutoCache)),
        ["offset fuse_config.nullpath_ok"] = Off<FuseConfig>(nameof(FuseConfig.NullpathOk)),
        ["offset fuse_conn_info.max_write"] = Off<FuseConnInfo>(nameof(FuseConnInfo.MaxWrite)),
        ["offset fuse_conn_info.max_readahead"] = Off<FuseConnInfo>(nameof(FuseConnInfo.MaxReadahead)),
        ["offset fuse_conn_info.capable"] = Off<FuseConnInfo>(nameof(FuseConnInfo.Capable)),
        ["offset fuse_conn_info.want"] = Off<FuseConnInfo>(nameof(FuseConnInfo.Want)),
        ["offset fuse_context.fuse"] = Off<FuseContext>(nameof(FuseContext.Fuse)),
        ["offset fuse_context.uid"] = Off<FuseContext>(nameof(FuseContext.Uid)),
        ["offset fuse_context.gid"] = Off<FuseContext>(nameof(FuseContext.Gid)),
        ["offset fuse_context.pid"] = Off<FuseContext>(nameof(FuseContext.Pid)),
        ["offset fuse_context.private_data"] = Off<FuseContext>(nameof(FuseContext.PrivateData)),
        ["offset fuse_context.umask"] = Off<FuseContext>(nameof(FuseContext.Umask)),
        ["offset fuse_args.argc"] = Off<FuseArgs>(nameof(FuseArgs.Argc)),
        ["offset fuse_args.argv"] = Off<FuseArgs>(nameof(FuseArgs.Argv)),
        ["offset fuse_args.allocated"] = Off<FuseArgs>(nameof(FuseArgs.Allocated)),
        ["offset stat.st_dev"] = StatOff(nameof(StatX64.Dev)),
        ["offset stat.st_ino"] = StatOff(nameof(StatX64.Ino)),
        ["offset stat.st_mode"] = StatOff(nameof(StatX64.Mode)),
        ["offset stat.st_nlink"] = StatOff(nameof(StatX64.Nlink)),
        ["offset stat.st_uid"] = StatOff(nameof(StatX64.Uid)),
        ["offset stat.st_gid"] = StatOff(nameof(StatX64.Gid)),
        ["offset stat.st_rdev"] = StatOff(nameof(StatX64.Rdev)),
        ["offset stat.st_size"] = StatOff(nameof(StatX64.Size)),
        ["offset stat.st_blksize"] = StatOff(nameof(StatX64.Blksize)),
        ["offset stat.st_blocks"] = StatOff(nameof(StatX64.Blocks)),
        ["offset stat.st_atim"] = StatOff(nameof(StatX64.Atime)),
        ["offset stat.st_mtim"] = StatOff(nameof(StatX64.Mtime)),
        ["offset stat.st_ctim"] = StatOff(nameof(StatX64.Ctime)),
        ["offset statvfs.f_bsize"] = Off<StatVfs>(nameof(StatVfs.BlockSize)),
        ["offset statvfs.f_frsize"] = Off<StatVfs>(nameof(StatVfs.FragmentSize)),
        ["offset statvfs.f_blocks"] = Off<StatVfs>(nameof(StatVfs.Blocks)),
        ["offset statvfs.f_bfree"] = Off<StatVfs>(nameof(StatVfs.BlocksFree)),
        ["offset statvfs.f_bavail"] = Off<StatVfs>(nameof(StatVfs.BlocksAvailable)),
        ["offset statvfs.f_files"] = Off<StatVfs>(nameof(StatVfs.Files)),
        ["offset statvfs.f_ffree"] = Off<StatVfs>(nameof(StatVfs.FilesFree)),
        ["offset statvfs.f_favail"] = Off<StatVfs>(nameof(StatVfs.FilesAvailable)),
        ["offset statvfs.f_namemax"] = Off<StatVfs>(nameof(StatVfs.NameMax)),
    };

    private static long Off<T>(string field) => (long)Marshal.OffsetOf<T>(field);

    private static long StatOff(string field) => s_arm64 ? Off<StatArm64>(field) : Off<StatX64>(field);

    [Fact]
    public async Task Every_struct_size_offset_and_flag_bit_matches_the_installed_libfuse3_headers()
    {
        Assert.True(File.Exists("/usr/include/fuse3/fuse.h"), "libfuse3-dev is not installed: ./test.sh installs it (apt-get install -y libfuse3-dev)");
        string binary = _dir.Combine("layout");
        using (ChildProcess gcc = ChildProcess.Start("gcc", "-I/usr/include/fuse3", Path.Combine(AppContext.BaseDirectory, "Fuse", "layout.c"), "-o", binary, "-lfuse3"))
        {
            Assert.True(await gcc.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, "gcc failed: " + await gcc.StderrAsync());
        }

        var reported = new Dictionary<string, long>(StringComparer.Ordinal);
        using (ChildProcess layout = ChildProcess.Start(binary))
        {
            while (await layout.ReadLineAsync(TimeSpan.FromSeconds(30)) is { } line)
            {
                int space = line.LastIndexOf(' ');
                reported[line[..space]] = long.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }

        Assert.Equal(s_binding.Count + 1, reported.Count); // every item the binding uses, plus the version
        var mismatches = s_binding.Where(b => reported[b.Key] != b.Value).Select(b => $"{b.Key}: headers {reported[b.Key]}, binding {b.Value}").ToList();
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));

        // The library the binding loads at run time is the one the headers describe, and a supported one.
        Assert.Equal(reported["value fuse_version"], LibFuse.Version());
        LibFuse.EnsureSupported();
    }

    public void Dispose() => _dir.Dispose();
}
