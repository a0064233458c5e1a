using System.Security.Cryptography;
using NexNet.Crypto;
using NexNet.Storage;

namespace NexNet.IntegrationTests.Storage;

/// <summary>meta.db is an ordinary SQLite database that the real sqlite3 tool reads: WAL mode, schema version, the blob index.</summary>
public sealed class SqliteCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static async Task<string> Sqlite3Async(string db, string sql)
    {
        if (!File.Exists("/usr/bin/sqlite3"))
        {
            Assert.Fail("sqlite3 is not installed: ./test.sh installs it (apt-get install -y sqlite3)");
        }

        using ChildProcess process = ChildProcess.Start("/usr/bin/sqlite3", db, sql);
        var lines = new List<string>();
        while (await process.ReadLineAsync(TimeSpan.FromSeconds(30)) is { } line)
        {
            lines.Add(line);
        }

        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, await process.StderrAsync());
        return string.Join('\n', lines);
    }

    [Fact]
    public async Task The_sqlite3_tool_reads_the_index_the_chunk_store_wrote()
    {
        string db = _dir.Combine("meta.db");
        using (VolumeKeys keys = VolumeKeys.Derive(RandomNumberGenerator.GetBytes(32)))
        using (var cipher = new BlobCipher(keys))
        using (MetaDatabase meta = MetaDatabase.Open(db))
        {
            var store = new ChunkStore(new BlobStore(_dir.Combine("blobs")), cipher, BlobIndex.Open(meta), chunkSize: 64 * 1024);
            await store.WriteAsync(new MemoryStream(RandomNumberGenerator.GetBytes((10 * 64 * 1024) + 1)), TestContext.Current.CancellationToken);
        }

        Assert.Equal("wal", await Sqlite3Async(db, "PRAGMA journal_mode;"));
        Assert.Equal($"blobs|{BlobIndex.CurrentSchemaVersion}", await Sqlite3Async(db, "SELECT owner, version FROM schema_versions;"));
        Assert.Equal("11|" + ((10 * (65536 + BlobFormat.HeaderSize)) + 1 + BlobFormat.HeaderSize), await Sqlite3Async(db, "SELECT COUNT(*), SUM(size) FROM blobs;"));
        Assert.Equal("ok", await Sqlite3Async(db, "PRAGMA integrity_check;"));
    }

    public void Dispose() => _dir.Dispose();
}
