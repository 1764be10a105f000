using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Polling;

/// <summary>Incremental sync without webhooks, delete reconciliation and schema drift, against the emulator.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class PollingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-poll-").FullName;

    private string Db => Path.Combine(_dir, "poll.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task With_webhooks_off_random_changes_and_deletes_arrive_by_polling_alone()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 2_000 } });
        var client = await portal.ConnectAsync();
        await using var sink = new SqliteSink(Db, SinkMode.Flat);
        await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.All, null, default);

        var changes = new RandomChanges(portal.Emulator, seed: 5, includePollOnlyModules: true);
        await changes.RunAsync(400, TimeSpan.Zero);
        var polled = await new Poller(client, sink).PollOnceAsync(DeskStreams.All, null, default);
        var reconciled = await new DeleteReconciler(client, sink).RunAsync(DeskStreams.All, null, default);

        Assert.True(changes.Deletes > 20, $"{changes.Deletes} deletes");
        Assert.True(polled.Sum(p => p.Rows) >= changes.Updates, "every update is read");
        Assert.Contains(reconciled, r => r.Deleted > 0);
        Assert.All(reconciled, r => Assert.Null(r.Message));
        await VerifyAsync(portal.Emulator);
    }

    [Fact]
    public async Task The_polling_mode_of_run_keeps_the_target_current_with_no_webhook_at_all()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 600 } });
        var client = await portal.ConnectAsync();
        await using var sink = new SqliteSink(Db, SinkMode.Flat);
        await using var sync = new RealtimeSync(client, sink, new RealtimeSyncOptions
        {
            Tables = DeskStreams.All,
            Server = new WebhookServerOptions { Listen = "http://127.0.0.1:0" },
            JournalDirectory = Path.Combine(_dir, "journal"),
            Token = ServiceUrlToken.New(),
            OrgId = portal.Emulator.Portal.OrgId,
            UseWebhooks = false,
            PollInterval = TimeSpan.FromMilliseconds(300),
            ReconcileInterval = TimeSpan.FromMilliseconds(700),
        });
        var reports = new List<string>();
        sync.Report += line => { lock (reports) { reports.Add(line); } };
        using var stop = new CancellationTokenSource();
        var run = sync.RunAsync(null, stop.Token);
        await Eventually.UntilAsync(() => sync.Streaming, "the full load to finish");

        using (var http = new HttpClient { BaseAddress = sync.Server!.Address })
        {
            using var hooks = await http.PostAsync("/hooks/x", new StringContent("[]"));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, hooks.StatusCode); // no receiver in polling mode
            Assert.Contains("desksync_polls_total", await http.GetStringAsync(new Uri(sync.Server.AdminAddress, "/metrics")), StringComparison.Ordinal);
        }

        int Reconciles()
        {
            lock (reports)
            {
                return reports.Count(r => r.StartsWith("reconcile:", StringComparison.Ordinal));
            }
        }

        await new RandomChanges(portal.Emulator, seed: 3, includePollOnlyModules: true).RunAsync(200, TimeSpan.Zero);
        var (cycles, reconciles) = (sync.PollCycles, Reconciles());
        // Two polls, and a reconciliation that began after the last change (the one running then may have listed before it).
        await Eventually.UntilAsync(() => sync.PollCycles >= cycles + 2 && Reconciles() >= reconciles + 2, "two polls and two reconciliations after the last change");
        await stop.CancelAsync();
        await run;

        Assert.Contains(reports, r => r.Contains("credits a day at this interval", StringComparison.Ordinal));
        await VerifyAsync(portal.Emulator);
    }

    [Fact]
    public async Task With_the_receiver_down_for_a_while_the_poll_catches_up()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 800 } });
        portal.Emulator.Webhooks.MaxAttempts = 2;
        var client = await portal.ConnectAsync();
        await using var sink = new SqliteSink(Db, SinkMode.Document);
        var token = ServiceUrlToken.New();
        var options = new RealtimeSyncOptions
        {
            Tables = DeskStreams.All,
            Server = new WebhookServerOptions { Listen = "http://127.0.0.1:0" },
            JournalDirectory = Path.Combine(_dir, "journal"),
            Token = token,
            OrgId = portal.Emulator.Portal.OrgId,
        };
        var changes = new RandomChanges(portal.Emulator, seed: 9);
        string listen;
        await using (var first = new RealtimeSync(client, sink, options))
        {
            await first.StartReceiverAsync(default);
            listen = first.Server!.Address.ToString();
            await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(listen, token), DeskStreams.All, "test", default);
            using var stop = new CancellationTokenSource();
            var run = first.RunAsync(null, stop.Token);
            await changes.RunAsync(100, TimeSpan.Zero);
            await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
            await first.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await run;
        }

        // The receiver is down: Zoho gives up on these deliveries.
        await changes.RunAsync(150, TimeSpan.Zero);
        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
        Assert.True(portal.Emulator.Webhooks.EventsDropped > 0);

        await using (var second = new RealtimeSync(client, sink, options with { Server = new WebhookServerOptions { Listen = listen.TrimEnd('/') } }))
        {
            using var stop = new CancellationTokenSource();
            var run = second.RunAsync(null, stop.Token);
            await Eventually.UntilAsync(() => second.Streaming, "the second run to stream");

            await changes.RunAsync(100, TimeSpan.Zero);
            await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
            await second.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await run;

            // The safety net: a slower poll and the delete reconciliation.
            await new Poller(client, sink).PollOnceAsync(DeskStreams.All, null, default);
            await new DeleteReconciler(client, sink).RunAsync(DeskStreams.All, null, default);
        }

        await VerifyAsync(portal.Emulator, SinkMode.Document);
    }

    [Fact]
    public async Task A_failing_id_listing_deletes_nothing_and_a_suspiciously_short_one_needs_force()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 400 } });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxRetryAttempts = 1 });
        await using var sink = new SqliteSink(Db, SinkMode.Flat);
        await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, default);
        var gone = portal.Emulator.Portal.List("tickets").Take(10).Select(t => t["id"]!.GetValue<string>()).ToList();
        gone.ForEach(id => portal.Emulator.Portal.Delete("tickets", id));

        portal.Emulator.Faults.Enqueue(new DeskSync.Emulator.Desk.ScriptedFault(DeskSync.Emulator.Desk.FaultKind.None)); // the field definitions
        portal.Emulator.Faults.Enqueue(new DeskSync.Emulator.Desk.ScriptedFault(DeskSync.Emulator.Desk.FaultKind.ServerError), times: 4); // the listing's first two calls (oldest and newest page, together), retries included
        var failed = await new DeleteReconciler(client, sink).RunAsync([DeskStreams.Tickets], null, default);
        Assert.Equal(0, failed.Single().Deleted);
        Assert.Contains("nothing was deleted", failed.Single().Message, StringComparison.Ordinal);
        Assert.Equal(400, await CountAsync("tickets"));

        // Suppose Zoho answered with most tickets missing (e.g. a permission change): refuse without --force.
        foreach (var id in portal.Emulator.Portal.List("tickets").Skip(50).Select(t => t["id"]!.GetValue<string>()).ToList())
        {
            portal.Emulator.Portal.Delete("tickets", id);
        }

        var guarded = await new DeleteReconciler(client, sink).RunAsync([DeskStreams.Tickets], null, default);
        Assert.Equal(0, guarded.Single().Deleted);
        Assert.Contains("--force", guarded.Single().Message, StringComparison.Ordinal);

        var forced = await new DeleteReconciler(client, sink, new ReconcileOptions { Force = true }).RunAsync([DeskStreams.Tickets], null, default);
        Assert.Equal(350, forced.Single().Deleted);
        Assert.Equal(50, await CountAsync("tickets"));
    }

    [Fact]
    public async Task A_custom_field_added_in_Zoho_becomes_a_column_a_removed_one_stays_and_a_type_change_is_reported()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        await using var sink = new SqliteSink(Db, SinkMode.Flat);
        await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, default);

        portal.Emulator.Portal.AddField("tickets", new JsonObject { ["id"] = "8880001", ["apiName"] = "cf_warranty_until", ["displayLabel"] = "Warranty until", ["type"] = "Date", ["isCustomField"] = true });
        portal.Emulator.Portal.RemoveField("tickets", "cf_vip");
        portal.Emulator.Portal.RemoveField("tickets", "cf_order");
        portal.Emulator.Portal.AddField("tickets", new JsonObject { ["id"] = "8880002", ["apiName"] = "cf_order", ["displayLabel"] = "Order #", ["type"] = "Text", ["isCustomField"] = true });
        var ticket = portal.Emulator.Portal.List("tickets")[2]["id"]!.GetValue<string>();
        portal.Emulator.Portal.Update("tickets", ticket, new JsonObject { ["cf"] = new JsonObject { ["cf_warranty_until"] = "2027-03-31", ["cf_order"] = "A-17" } });

        var messages = new List<string>();
        await new Poller(client, sink).PollOnceAsync([DeskStreams.Tickets], messages.Add, default);

        Assert.Contains(messages, m => m.Contains("new column cf_warranty_until", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("warning:", StringComparison.Ordinal) && m.Contains("cf_order", StringComparison.Ordinal) && m.Contains("integer", StringComparison.Ordinal));
        await using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        await connection.OpenAsync();
        var row = (await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, cf_warranty_until, cf_vip, cf_order, json_extract(_raw, '$.cf.cf_order') AS raw_order FROM tickets WHERE id = '{ticket}'"))[ticket];
        Assert.Equal("2027-03-31", row["cf_warranty_until"]);
        Assert.True(row.ContainsKey("cf_vip"), "a removed field's column stays");
        Assert.Null(row["cf_order"]); // "A-17" does not fit the integer column…
        Assert.Equal("A-17", row["raw_order"]); // …and is kept in the raw record
    }

    private async Task<long> CountAsync(string table)
    {
        await using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task VerifyAsync(ZohoDeskEmulator emulator, SinkMode mode = SinkMode.Flat)
    {
        await using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, emulator, mode, DeskStreams.All);
    }
}
