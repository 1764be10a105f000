using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Reliability;

/// <summary>
/// The target goes away while `run` streams — PostgreSQL restarted, PostgreSQL turned read-only,
/// the SQLite disk full — and the journal's own disk fills: webhooks keep being acknowledged only
/// when they are kept, the applier waits and retries, and the target ends equal to the emulator.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
[Collection(PostgresOutages.Name)]
public sealed class TargetOutageTests(RestartablePostgresServer postgres) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-outage-").FullName;

    public void Dispose()
    {
        _portal?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task PostgreSQL_restarted_while_run_streams_is_waited_out_and_the_target_ends_equal_to_the_emulator()
    {
        Assert.True(postgres.SelfManaged, "this test stops the server, so it needs the one the tests start (unset DESKSYNC_TEST_PG)");
        var schema = PostgresServer.NewSchema();
        await using var sink = new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema);
        // The applier meets the stopped server either in a write on its open connection or when it
        // opens a new one, depending on when Npgsql notices that the server closed the session.
        try
        {
            await OutageAsync(sink, postgres.StopAsync, postgres.StartAsync, "refused a write", "Cannot connect to PostgreSQL", "connection to the server was lost");
        }
        finally
        {
            await postgres.StartIfStoppedAsync(); // a failure here must not leave the other tests of the collection without a server
        }

        await using var connection = await postgres.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, _portal!.Emulator, SinkMode.Flat, DeskStreams.All, qualify: $"\"{schema}\".");
    }

    [Fact]
    public async Task PostgreSQL_turned_read_only_while_run_streams_is_waited_out_and_the_target_ends_equal_to_the_emulator()
    {
        var schema = PostgresServer.NewSchema();
        await using var admin = await postgres.OpenAsync();
        async Task ReadOnly(bool on)
        {
            // As a failover to a standby would: every new transaction becomes read-only.
            foreach (var sql in new[] { "SET default_transaction_read_only = off", on ? "ALTER SYSTEM SET default_transaction_read_only = on" : "ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()" })
            {
                await using var command = admin.CreateCommand();
                command.CommandText = sql;
                await command.ExecuteNonQueryAsync();
            }
        }

        await using var sink = new PostgresSink(postgres.ConnectionString, SinkMode.Document, schema);
        try
        {
            await OutageAsync(sink, () => ReadOnly(true), () => ReadOnly(false), "read-only transaction");
        }
        finally
        {
            await ReadOnly(false);
        }

        await TargetVerifier.VerifyAsync(admin, _portal!.Emulator, SinkMode.Document, DeskStreams.All, qualify: $"\"{schema}\".");
    }

    [SmallDiskFact]
    public async Task The_SQLite_disk_full_while_run_streams_is_waited_out_and_the_target_ends_equal_to_the_emulator()
    {
        using var disk = SmallDisk.Mount(megabytes: 24);
        var path = Path.Combine(disk.Path, "target.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            // Filled again before each round of changes: on a full disk the sink empties its WAL
            // (see SqliteSink.WalRoom), which gives blocks back that the next writes can use.
            await OutageAsync(sink, () => Task.Run(disk.Fill), () => Task.Run(disk.Free), ["full"], keepBroken: () => Task.Run(disk.Fill));
        }

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, _portal!.Emulator, SinkMode.Flat, DeskStreams.All);
    }

    [SmallDiskFact]
    public async Task A_full_journal_disk_answers_503_and_every_acknowledged_event_is_applied_once_space_returns()
    {
        using var disk = SmallDisk.Mount(megabytes: 4);
        await using var portal = await TestPortal.StartAsync();
        var db = Path.Combine(_dir, "target.db");
        await using var sink = new SqliteSink(db, SinkMode.Flat);
        var token = ServiceUrlToken.New();
        await using var sync = new RealtimeSync(await portal.ConnectAsync(), sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token) with
        {
            JournalDirectory = Path.Combine(disk.Path, "journal"),
        });
        await sync.StartReceiverAsync(CancellationToken.None);
        var (run, stop) = await Realtime.StartStreamingAsync(sync);
        using var http = new HttpClient { BaseAddress = sync.Server!.Address };
        var acked = new List<string>();
        var refused = new List<string>();
        var next = 9_000_000_000L;

        async Task<HttpResponseMessage> PostAsync(List<string> into)
        {
            var id = (next++).ToString(CultureInfo.InvariantCulture);
            var response = await http.PostAsync($"/hooks/{token}", Webhook.TicketAdds(portal.Emulator.Portal.OrgId, [id], _ => new string('s', 2_000)));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                into.Add(id);
            }

            return response;
        }

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(acked)).StatusCode);
        }

        disk.Fill();
        var refusals = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++)
        {
            var response = await PostAsync(acked);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                refusals.Add(response);
                refused.Add((next - 1).ToString(CultureInfo.InvariantCulture));
            }
        }

        Assert.Equal(20, refusals.Count); // not one acknowledged while the disk was full
        Assert.All(refusals, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode));
        Assert.Contains("journal", await refusals[0].Content.ReadAsStringAsync(), StringComparison.Ordinal);

        disk.Free();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(acked)).StatusCode); // the journal recovers without a restart
        }

        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await run;

        await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, "SELECT * FROM \"tickets\"");
        Assert.Equal(100, acked.Count);
        Assert.All(acked, id => Assert.True(rows.ContainsKey(id), $"acknowledged event {id} was lost"));
        Assert.All(refused, id => Assert.False(rows.ContainsKey(id), $"refused event {id} was applied anyway"));
    }

    [SmallDiskFact]
    public async Task A_JSONL_batch_cut_by_a_full_disk_is_written_exactly_once_when_retried()
    {
        using var disk = SmallDisk.Mount(megabytes: 2);
        var schema = new TableSchema("tickets", []);
        var sink = new FileSink(Path.Combine(disk.Path, "out"), FileFormat.Jsonl, SinkMode.Document);
        await sink.InitializeAsync(CancellationToken.None);
        static List<ChangeEvent> Batch(int from, int count, int size) => [.. Enumerable.Range(from, count).Select(i => new ChangeEvent(
            ChangeOp.Read, "tickets", i.ToString(CultureInfo.InvariantCulture), JsonSerializer.SerializeToElement(new { id = i.ToString(CultureInfo.InvariantCulture), pad = new string('p', size) }),
            DateTimeOffset.UnixEpoch, "test"))];

        await sink.ApplyAsync(schema, Batch(0, 100, 100), new Checkpoint("s", "1"), CancellationToken.None);
        var gap = Path.Combine(disk.Path, "gap");
        await File.WriteAllBytesAsync(gap, new byte[64 << 10]);
        disk.Fill();
        File.Delete(gap); // 64 KB free: room for part of the next batch (200 KB), not all of it

        var ex = await Assert.ThrowsAsync<SinkException>(() => sink.ApplyAsync(schema, Batch(100, 100, 2_000), new Checkpoint("s", "2"), CancellationToken.None));
        Assert.True(ex.Retryable);
        Assert.Equal("1", (await sink.GetCheckpointAsync("s", CancellationToken.None))!.State);
        Assert.True(new FileInfo(sink.FileOf("tickets")).Length > 100 * 100 + (32 << 10), "the failed batch left part of itself in the file, as a full disk does");
        disk.Free();

        await sink.ApplyAsync(schema, Batch(100, 100, 2_000), new Checkpoint("s", "2"), CancellationToken.None);
        var ids = File.ReadAllLines(sink.FileOf("tickets")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").ToString()).ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i.ToString(CultureInfo.InvariantCulture)), ids);
    }

    private TestPortal? _portal;

    /// <summary>
    /// Streams random changes, breaks the target, makes more changes (acknowledged and journaled
    /// meanwhile), mends it, makes more, and waits until everything is applied.
    /// </summary>
    private Task OutageAsync(ISink sink, Func<Task> breakTarget, Func<Task> mendTarget, params string[] errorTexts) =>
        OutageAsync(sink, breakTarget, mendTarget, errorTexts, keepBroken: null);

    private async Task OutageAsync(ISink sink, Func<Task> breakTarget, Func<Task> mendTarget, string[] errorTexts, Func<Task>? keepBroken)
    {
        _portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 400, Contacts = 100 } });
        var client = await _portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(_portal, _dir, DeskStreams.All, token) with { TargetRetryMaxDelay = TimeSpan.FromMilliseconds(300) });
        var reports = new ConcurrentQueue<string>();
        sync.Report += reports.Enqueue;
        await sync.StartReceiverAsync(CancellationToken.None);
        await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), DeskStreams.All, "DeskSync test", CancellationToken.None);
        var (run, stop) = await Realtime.StartStreamingAsync(sync);
        using var http = new HttpClient { BaseAddress = sync.Server.Address };
        var changes = new RandomChanges(_portal.Emulator, seed: 23);

        await changes.RunAsync(100, TimeSpan.Zero);
        await _portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));

        await breakTarget();
        // A full disk refuses a write only once it needs a new block: SQLite overwrites a WAL that
        // has started over in place, so the first changes may still fit. More come until one does not.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (sync.Applier!.TargetError is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the applier never met the broken target");
            if (keepBroken is not null)
            {
                await keepBroken();
            }

            await changes.RunAsync(200, TimeSpan.FromMilliseconds(1));
            await _portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
            for (var wait = DateTime.UtcNow.AddSeconds(3); sync.Applier.TargetError is null && DateTime.UtcNow < wait;)
            {
                await Task.Delay(20);
            }
        }

        var error = sync.Applier.TargetError;
        Assert.True(errorTexts.Any(t => error!.Contains(t, StringComparison.OrdinalIgnoreCase)), $"the target error names the cause: {error}");
        Assert.DoesNotContain(".. ", error!, StringComparison.Ordinal); // the cause's own full stop and ours, once
        var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(sync.Server.AdminAddress, "/healthz"))).RootElement;
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Contains("desksync_target_up 0", await http.GetStringAsync(new Uri(sync.Server.AdminAddress, "/metrics")), StringComparison.Ordinal);
        Assert.False(run.IsCompleted, "run must keep going while the target is away");

        await mendTarget();
        await changes.RunAsync(100, TimeSpan.Zero);
        await _portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
        // Should it not catch up, the failure says why: the error that stopped the sync, or what
        // the applier and the target looked like when the wait ran out.
        var caughtUp = sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(caughtUp, run) == run && !caughtUp.IsCompleted)
        {
            await run;
            Assert.Fail("the sync stopped before it caught up, with no error");
        }

        try
        {
            await caughtUp;
        }
        catch (TimeoutException ex)
        {
            var target = sink is SqliteSink sqlite
                ? string.Join(", ", new[] { "", "-wal", "-shm" }.Select(x => sqlite.Path + x).Where(File.Exists).Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length:N0} B"))
                    + $"; {new DriveInfo(Path.GetDirectoryName(sqlite.Path)!).AvailableFreeSpace:N0} B free"
                : sink.Describe();
            throw new TimeoutException($"{ex.Message} Target error: {sync.Applier!.TargetError ?? "none"} ({sync.Applier.TargetFailures} refused writes); target: {target}; last reports: {string.Join(" | ", reports.TakeLast(4))}", ex);
        }

        await stop.CancelAsync();
        await run;

        Assert.Equal(0, _portal.Emulator.Webhooks.EventsDropped); // every delivery during the outage was acknowledged
        Assert.Equal(0, sync.Server.Receiver.Refused);
        Assert.Null(sync.Applier.TargetError);
        Assert.True(sync.Applier.TargetFailures >= 1);
        Assert.Contains(reports, r => r.StartsWith("warning: the target refused a write", StringComparison.Ordinal));
        Assert.Contains(reports, r => r.StartsWith("target: writing again", StringComparison.Ordinal));
        Assert.DoesNotContain(reports, r => r.Contains("Password", StringComparison.OrdinalIgnoreCase));
    }
}
