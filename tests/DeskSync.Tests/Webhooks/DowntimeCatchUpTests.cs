using System.Data.Common;
using DeskSync.Core;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Webhooks;

/// <summary>
/// Changes made while `run` was stopped — longer than Zoho (here the emulator) keeps retrying the
/// deliveries — land after a plain restart, with no command from the user: the catch-up reads
/// what changed since the last applied event, and after a long downtime reconciles deletes.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class DowntimeCatchUpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-downtime-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Creates_updates_and_deletes_made_while_run_was_down_land_after_a_plain_restart()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var token = ServiceUrlToken.New();
        var tables = DeskStreams.All;
        var options = Realtime.Options(portal, _dir, tables, token) with { Time = time };
        var database = Path.Combine(_dir, "t.db");

        await using (var sink = new SqliteSink(database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, options))
        {
            await sync.StartReceiverAsync(CancellationToken.None);
            await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), tables, "test", CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            var live = new RandomChanges(portal.Emulator, seed: 3);
            await live.RunAsync(40, TimeSpan.Zero);
            await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            Assert.True(sync.Applier!.EventsApplied > 0);
            await stop.CancelAsync();
            await run;
        }

        // Down: the emulator's deliveries fail until it gives up on them.
        var away = new RandomChanges(portal.Emulator, seed: 4);
        await away.RunAsync(150, TimeSpan.Zero);
        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
        Assert.True(portal.Emulator.Webhooks.EventsDropped > 0, "the deliveries made while down were given up");
        Assert.True(away.Creates > 0 && away.Updates > 0 && away.Deletes > 0, $"{away.Creates} creates, {away.Updates} updates, {away.Deletes} deletes");
        time.Advance(TimeSpan.FromMinutes(20)); // longer than ReconcileAfterDowntime (15 minutes)

        var reports = new List<string>();
        await using (var sink = new SqliteSink(database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, options))
        {
            sync.Report += line => { lock (reports) { reports.Add(line); } };
            await sync.StartReceiverAsync(CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            await Eventually.UntilAsync(() => sync.CaughtUp, "the catch-up", () => string.Join(" | ", reports));

            await stop.CancelAsync();
            await run;
        }

        Assert.Contains(reports, r => r.StartsWith("catch-up:", StringComparison.Ordinal));
        Assert.True(reports.Any(r => r.StartsWith("reconcile:", StringComparison.Ordinal)), "no reconciliation: " + string.Join(" | ", reports));
        await using DbConnection connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, tables);
    }

    [Fact]
    public async Task A_change_made_before_the_webhook_is_registered_lands_when_Zoho_checks_the_service_url()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        var database = Path.Combine(_dir, "t.db");
        var id = portal.Emulator.Portal.List("tickets")[0]["id"]!.GetValue<string>();
        var reports = new List<string>();
        await using (var sink = new SqliteSink(database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            sync.Report += line => { lock (reports) { reports.Add(line); } };
            await sync.StartReceiverAsync(CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            await Eventually.UntilAsync(() => sync.CaughtUp, "the catch-up at start");

            // README's order: `run`, then `webhook register`. A change in between reaches no webhook.
            portal.Emulator.Portal.Update("tickets", id, new System.Text.Json.Nodes.JsonObject { ["status"] = "Before registration" });
            await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), [DeskStreams.Tickets], "test", CancellationToken.None);
            await Eventually.UntilAsync(() => { lock (reports) { return reports.Any(r => r.Contains("before the webhook was set up", StringComparison.Ordinal)); } }, "the catch-up after the URL check");
            await stop.CancelAsync();
            await run;
        }

        await using DbConnection connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, status FROM tickets WHERE id = '{id}'");
        Assert.Equal("Before registration", rows[id]["status"]);
    }
}
