using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Sinks;

/// <summary>
/// SQLite's WAL is checkpointed on a connection of its own while the writer keeps writing, and
/// never grows past its limit; every committed row is there afterwards. New files get 16 KB
/// pages, and the checkpointer counts WAL bytes with a file's real page size.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class SqliteCheckpointTests : IDisposable
{
    private static readonly TableSchema Schema = new("tickets", [new ColumnSchema("id", ColumnType.Text, ["id"]), new ColumnSchema("subject", ColumnType.Text, ["subject"])]);

    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-wal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Committed_pages_reach_the_database_file_while_the_writer_stays_open()
    {
        var path = Path.Combine(_dir, "bg.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await WriteAsync(sink, batches: 40); // ~16 MB

            // SQLite's own checkpoints inside commits are off: only the background checkpointer
            // can have moved these pages into the database file.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (new FileInfo(path).Length < 6_000_000)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the database file is {new FileInfo(path).Length:N0} bytes: nothing was checkpointed while the sink was open");
                await Task.Delay(50);
            }
        }

        Assert.Equal(40 * 50, await CountAsync(path));
    }

    [Fact]
    public async Task The_writer_starts_the_WAL_over_when_it_reaches_its_limit()
    {
        var path = Path.Combine(_dir, "limit.db");
        long largestWal = 0;
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { WalLimit = 2 << 20, CheckpointInterval = TimeSpan.FromHours(1) })
        {
            await sink.InitializeAsync(default);
            for (var i = 0; i < 100; i++) // ~40 MB, with the background checkpointer held back
            {
                await WriteAsync(sink, batches: 1, first: i * 50);
                largestWal = Math.Max(largestWal, new FileInfo(path + "-wal").Length);
            }
        }

        Assert.True(largestWal < 3 << 20, $"the WAL grew to {largestWal:N0} bytes against a 2 MB limit");
        Assert.Equal(100 * 50, await CountAsync(path));
    }

    [Theory]
    [InlineData(16384)]
    [InlineData(4096)]
    [InlineData(65536)]
    public async Task A_writer_that_never_pauses_has_its_WAL_started_over_by_the_checkpointer(int pageSize)
    {
        // A WAL only starts over when a write begins with every frame copied, which a writer that
        // commits without pause never offers: without the checkpointer's request the WAL would
        // grow to the writer's own limit (set out of reach here). This writer pauses 5 ms between
        // commits, as a load does between pages, during which the WAL may also start over by
        // itself; the restart point is below one commit (~400 KB), so that any checkpoint round
        // that copied a commit whole asks for a restart however fast or busy the machine is (a
        // point above it let a fast machine start the WAL over by itself every time, never asking).
        var path = Path.Combine(_dir, "restart.db");
        long largestWal = 0;
        (int Requested, int Forced) restarts;
        var written = 0;
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { WalLimit = 1L << 30, WalRestartBytes = 256 << 10, CheckpointInterval = TimeSpan.FromMilliseconds(10), NewFilePageSize = pageSize })
        {
            await sink.InitializeAsync(default);
            for (var i = 0; i < 100 || (sink.WalRestarts.Requested == 0 && i < 400); i++) // ~40 MB or more, ~400 KB a commit
            {
                await WriteAsync(sink, batches: 1, first: i * 50);
                largestWal = Math.Max(largestWal, new FileInfo(path + "-wal").Length);
                await Task.Delay(5);
                written = i + 1;
            }

            restarts = sink.WalRestarts;
        }

        Assert.True(restarts.Requested > 0, "the checkpointer never asked the writer to start the WAL over");
        Assert.Equal(0, restarts.Forced);
        // Started over, the WAL stays far below what went through it (a checkpointer that a busy
        // machine holds back lets it grow for a while: no fixed size holds everywhere).
        var database = new FileInfo(path).Length;
        Assert.True(largestWal < database / 2, $"the WAL grew to {largestWal:N0} bytes while {database:N0} bytes were written through it");
        Assert.Equal(written * 50, await CountAsync(path));
    }

    [SmallDiskFact]
    public async Task On_a_small_disk_the_writer_starts_the_WAL_over_long_before_it_fills_the_disk()
    {
        // A WAL that takes the last free byte leaves none for its checkpoint to grow the database
        // file into: it can then never be copied nor started over, and every write fails for good
        // (most likely why, in one CI run, a streaming sync never caught up after its full disk was
        // freed). Here the
        // checkpointer is held back and the writer's own limit (256 MB) is ten times the disk, so
        // only the disk's free space can start the WAL over: ~60 MB go through it, ~400 KB a
        // commit, the same 200 rows written again and again (under 2 MB of rows).
        using var disk = SmallDisk.Mount(megabytes: 24);
        var path = Path.Combine(disk.Path, "small.db");
        long largestWal = 0;
        (int Requested, int Forced) restarts;
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { CheckpointInterval = TimeSpan.FromHours(1) })
        {
            await sink.InitializeAsync(default);
            for (var i = 0; i < 150; i++)
            {
                await WriteAsync(sink, batches: 1, first: (i % 4) * 50);
                largestWal = Math.Max(largestWal, new FileInfo(path + "-wal").Length);
            }

            restarts = sink.WalRestarts;
        }

        // Emptied, not only started over: a WAL file started over keeps its size, which would then
        // call for another restart after every commit.
        Assert.InRange(restarts.Forced, 1, 20);
        Assert.True(largestWal < 13 << 20, $"the WAL grew to {largestWal:N0} bytes on a 24 MB disk");
        Assert.Equal(200, await CountAsync(path));
    }

    [SmallDiskFact]
    public async Task On_a_small_disk_a_reader_that_holds_the_WAL_does_not_make_every_commit_wait()
    {
        // A reader in another program holds the WAL (an open read transaction): it cannot be
        // emptied while it stays. The writer must not try again at every commit, each try waiting
        // on the reader; it tries again once the WAL has grown by a quarter.
        using var disk = SmallDisk.Mount(megabytes: 24);
        var path = Path.Combine(disk.Path, "held.db");
        (int Requested, int Forced) restarts;
        var commits = 0;
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { CheckpointInterval = TimeSpan.FromHours(1) })
        {
            await sink.InitializeAsync(default);
            await WriteAsync(sink, batches: 1);
            await using var reader = new SqliteConnection($"Data Source={path};Pooling=false");
            await reader.OpenAsync();
            await using var hold = reader.BeginTransaction(deferred: true); // a reader: no write lock
            await using (var count = reader.CreateCommand())
            {
                count.Transaction = hold;
                count.CommandText = "SELECT count(*) FROM tickets";
                await count.ExecuteScalarAsync();
            }

            // Up to ~17 MB of WAL, past half the space it could take (~11 MB) and short of the disk's end.
            while (new FileInfo(path + "-wal").Length < 17 << 20)
            {
                await WriteAsync(sink, batches: 1, first: (commits % 4) * 50);
                commits++;
            }

            restarts = sink.WalRestarts;
            await hold.RollbackAsync();
        }

        Assert.InRange(restarts.Forced, 1, 4);
        Assert.True(commits > 10, $"only {commits} commits");
        Assert.Equal(200, await CountAsync(path));
    }

    [SmallDiskFact]
    public async Task On_a_small_disk_a_writer_that_never_pauses_keeps_its_WAL_small_with_the_checkpointer_running()
    {
        // The same with the checkpointer running, whose own restart point (64 MB) is more than this
        // disk holds; the writer never pauses, as when a sync catches up on a backlog. Whether the
        // checkpointer has to ask for the restart depends on timing (on a tmpfs it often copies
        // every frame between two commits, and the WAL starts over by itself), so this checks the
        // outcome: with the restart points at 64 and 256 MB alone the disk filled here. The
        // writer's half of the space would hold the bound by itself, so the checkpointer's quarter
        // is not pinned by a test; the test above is the one that cannot pass by timing.
        using var disk = SmallDisk.Mount(megabytes: 24);
        var path = Path.Combine(disk.Path, "small.db");
        long largestWal = 0;
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { CheckpointInterval = TimeSpan.FromMilliseconds(10) })
        {
            await sink.InitializeAsync(default);
            for (var i = 0; i < 300; i++)
            {
                await WriteAsync(sink, batches: 1, first: (i % 4) * 50);
                largestWal = Math.Max(largestWal, new FileInfo(path + "-wal").Length);
            }
        }

        Assert.True(largestWal < 13 << 20, $"the WAL grew to {largestWal:N0} bytes on a 24 MB disk");
        Assert.Equal(200, await CountAsync(path));
    }

    [Fact]
    public async Task A_reader_that_holds_the_WAL_delays_its_restart_but_not_the_writes()
    {
        // Another program's long read transaction keeps the WAL from being copied and started
        // over: every commit still lands, and once the reader leaves, the WAL starts over again.
        var path = Path.Combine(_dir, "reader.db");
        int whileReading;
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { WalLimit = 1L << 30, WalRestartBytes = 256 << 10, CheckpointInterval = TimeSpan.FromMilliseconds(10) })
        {
            await sink.InitializeAsync(default);
            await WriteAsync(sink, batches: 1);
            await using (var reader = new SqliteConnection($"Data Source={path};Pooling=false"))
            {
                await reader.OpenAsync();
                await using var transaction = reader.BeginTransaction(deferred: true); // a reader: no write lock
                await using (var read = reader.CreateCommand())
                {
                    read.Transaction = transaction;
                    read.CommandText = "SELECT count(*) FROM tickets";
                    Assert.Equal(50L, await read.ExecuteScalarAsync());
                }

                for (var i = 1; i < 50; i++) // ~20 MB while the reader holds its snapshot
                {
                    await WriteAsync(sink, batches: 1, first: i * 50);
                    await Task.Delay(5);
                }

                Assert.Equal(50 * 50, await CountAsync(path));
                whileReading = sink.WalRestarts.Requested;
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            for (var i = 50; sink.WalRestarts.Requested == whileReading; i++) // after it left, until the WAL starts over
            {
                Assert.True(DateTime.UtcNow < deadline, "the WAL was not started over after the reader left");
                await WriteAsync(sink, batches: 1, first: i * 50);
                await Task.Delay(5);
            }

            Assert.Equal(0, sink.WalRestarts.Forced);
        }

        Assert.Equal(0, whileReading);
        Assert.True(await CountAsync(path) > 50 * 50);
    }

    [Fact]
    public async Task A_new_file_gets_16_KB_pages_and_a_file_that_exists_keeps_its_own()
    {
        var fresh = Path.Combine(_dir, "fresh.db");
        await using (var sink = new SqliteSink(fresh, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await WriteAsync(sink, batches: 2);
            Assert.Equal(16384 + 24, sink.WalFrameBytes); // what the checkpointer counts WAL bytes with
        }

        // A file an earlier version made (SQLite's default 4 KB pages, WAL, rows in it).
        var older = Path.Combine(_dir, "older.db");
        await using (var connection = new SqliteConnection($"Data Source={older};Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);";
            await command.ExecuteNonQueryAsync();
        }

        await using (var sink = new SqliteSink(older, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await WriteAsync(sink, batches: 2);
            Assert.Equal(4096 + 24, sink.WalFrameBytes);
        }

        Assert.Equal(16384L, await PragmaAsync(fresh, "page_size"));
        Assert.Equal(4096L, await PragmaAsync(older, "page_size"));
        Assert.Equal(100L, await CountAsync(fresh));
        Assert.Equal(100L, await CountAsync(older));
        Assert.Equal("ok", await PragmaAsync(older, "integrity_check"));
    }

    private static async Task WriteAsync(SqliteSink sink, int batches, int first = 0)
    {
        var subject = new string('x', 4000);
        for (var b = 0; b < batches; b++)
        {
            var events = Enumerable.Range(first + (b * 50), 50).Select(i =>
            {
                var record = JsonDocument.Parse($$"""{"id":"{{i}}","subject":"{{subject}}"}""").RootElement.Clone();
                return new ChangeEvent(ChangeOp.Read, "tickets", $"{i}", record, null, "test");
            }).ToList();
            await sink.ApplyAsync(Schema, events, null, default);
        }
    }

    private static async Task<long> CountAsync(string path) => (long)(await ScalarAsync(path, "SELECT count(*) FROM tickets"))!;

    private static Task<object?> PragmaAsync(string path, string pragma) => ScalarAsync(path, "PRAGMA " + pragma);

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
