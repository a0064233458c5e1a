namespace NexNet.IntegrationTests.Mount;

/// <summary>Ordinary programs that lean hard on a file system (git, sqlite3, tar, rsync, an editor's save) run inside the mount.</summary>
[Collection(MountTests.Name)]
public sealed class MountProgramsTests(MountFixture fixture) : IClassFixture<MountFixture>
{
    private NexnetMountProcess Mount => fixture.Mount;

    [Fact]
    public async Task Git_commits_500_files_and_reports_a_clean_tree()
    {
        string output = await Shell.RunAsync($"""
            cd '{Mount.Mountpoint}'
            mkdir repo && cd repo
            git init -q
            for i in $(seq 1 500); do echo "content of file $i" > "file$i.txt"; done
            git add .
            git -c user.email=test@nexnet -c user.name=test commit -q -m 'five hundred files'
            echo changed >> file7.txt
            git status --porcelain
            git -c user.email=test@nexnet -c user.name=test commit -q -am 'one change'
            git status --porcelain | wc -l
            git log --oneline | wc -l
            git ls-files | wc -l
            git fsck --strict 2>&1 | grep -c error || true
            """);
        Assert.Equal(" M file7.txt\n0\n2\n500\n0", output);
    }

    [Fact]
    public async Task Sqlite3_builds_10000_rows_and_passes_its_integrity_check()
    {
        string output = await Shell.RunAsync($"""
            cd '{Mount.Mountpoint}'
            sqlite3 db.sqlite <<'SQL'
            CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value BLOB);
            CREATE INDEX t_name ON t(name);
            WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000)
              INSERT INTO t (name, value) SELECT 'row' || x, randomblob(100) FROM n;
            BEGIN; UPDATE t SET name = name || '!' WHERE id % 7 = 0; COMMIT;
            DELETE FROM t WHERE id % 10 = 0;
            SQL
            sqlite3 db.sqlite 'PRAGMA integrity_check; SELECT count(*) FROM t; SELECT count(*) FROM t WHERE name LIKE "%!";'
            """);
        Assert.Equal("ok\n9000\n1286", output);
    }

    [Fact]
    public async Task Tar_extracts_5000_files_and_creates_an_archive_with_equal_checksums()
    {
        string source = Path.Combine(fixture.Scratch, "tree");
        string output = await Shell.RunAsync($"""
            mkdir -p '{source}' && cd '{source}'
            for d in $(seq 1 50); do
              mkdir "d$d"
              for f in $(seq 1 100); do head -c $(( (d * 131 + f * 17) % 9000 )) /dev/urandom > "d$d/f$f"; done
            done
            ln -s d1/f1 link
            tar cf '{fixture.Scratch}/tree.tar' .
            mkdir '{Mount.PathOf("untar")}' && cd '{Mount.PathOf("untar")}'
            tar xf '{fixture.Scratch}/tree.tar'
            find . -type f | wc -l
            readlink link
            (cd '{source}' && find . -type f -print0 | sort -z | xargs -0 sha256sum) > '{fixture.Scratch}/before'
            find . -type f -print0 | sort -z | xargs -0 sha256sum | cmp - '{fixture.Scratch}/before'
            tar cf '{fixture.Scratch}/back.tar' .
            mkdir '{fixture.Scratch}/back' && tar xf '{fixture.Scratch}/back.tar' -C '{fixture.Scratch}/back'
            (cd '{fixture.Scratch}/back' && find . -type f -print0 | sort -z | xargs -0 sha256sum) | cmp - '{fixture.Scratch}/before'
            """);
        Assert.Equal("5000\nd1/f1", output);
    }

    [Fact]
    public async Task Rsync_copies_a_tree_in_and_a_checksum_pass_finds_nothing_to_do()
    {
        string source = Path.Combine(fixture.Scratch, "rsync-src");
        string output = await Shell.RunAsync($"""
            mkdir -p '{source}/sub/deeper'
            for i in $(seq 1 200); do head -c $((i * 997)) /dev/urandom > '{source}'/sub/f$i; done
            head -c 3000000 /dev/urandom > '{source}/sub/deeper/big'
            chmod 600 '{source}/sub/f1'
            touch -d '2001-02-03 04:05:06' '{source}/sub/f2'
            rsync -a '{source}/' '{Mount.PathOf("rsynced")}/'
            echo "changes: $(rsync -a -c --itemize-changes --dry-run '{source}/' '{Mount.PathOf("rsynced")}/' | tr '\n' ';')"
            stat -c '%a' '{Mount.PathOf("rsynced/sub/f1")}'
            stat -c '%Y' '{Mount.PathOf("rsynced/sub/f2")}'
            """);
        Assert.Equal($"changes: \n600\n{new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeZoneInfo.Local.GetUtcOffset(new DateTime(2001, 2, 3))).ToUnixTimeSeconds()}", output);
    }
}
