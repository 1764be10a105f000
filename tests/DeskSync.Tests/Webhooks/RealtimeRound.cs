using System.Data.Common;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Webhooks;

/// <summary>
/// Snapshot + stream against the emulator: webhooks registered by API, a thousand random changes
/// during and after the full load, then the target must equal the emulator.
/// </summary>
internal static class RealtimeRound
{
    public static async Task RunAsync(string target, SinkMode mode, string dir, PostgresServer? postgres)
    {
        // The ticket's children ride along in one mode of each target (SQLite flat, PostgreSQL
        // document): they multiply the calls, so those loads have fewer tickets and last as long.
        var children = (target, mode) is ("sqlite", SinkMode.Flat) or ("postgres", SinkMode.Document);
        var tables = children ? DeskStreams.All : DeskStreams.Default;
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = children ? 1_000 : 2_000, Contacts = 300 }, DailyCredits = 10_000_000 });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(5);
        var client = await portal.ConnectAsync();
        var schema = PostgresServer.NewSchema();
        await using ISink sink = target == "sqlite" ? new SqliteSink(Path.Combine(dir, "rt.db"), mode) : new PostgresSink(postgres!.ConnectionString, mode, schema);
        var token = ServiceUrlToken.New();
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, dir, tables, token));
        await sync.StartReceiverAsync(CancellationToken.None);
        await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), tables, "DeskSync test", CancellationToken.None);

        using var stop = new CancellationTokenSource();
        var run = sync.RunAsync(null, stop.Token);
        var changes = new RandomChanges(portal.Emulator, seed: 11);
        await changes.RunAsync(500, TimeSpan.FromMilliseconds(2)); // during the full load
        await Eventually.UntilAsync(() => sync.Streaming, "the full load to finish", deadline: TimeSpan.FromMinutes(2));
        await changes.RunAsync(500, TimeSpan.Zero); // while streaming
        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await run;

        Assert.Equal(0, portal.Emulator.Webhooks.EventsDropped);
        Assert.Equal(1_000, changes.Creates + changes.Updates + changes.Deletes);
        Assert.True(changes.Deletes > 50 && changes.Creates > 200, $"{changes.Creates} creates, {changes.Deletes} deletes");
        await using DbConnection connection = target == "sqlite" ? new SqliteConnection($"Data Source={Path.Combine(dir, "rt.db")};Pooling=False") : await postgres!.OpenAsync();
        if (target == "sqlite")
        {
            await connection.OpenAsync();
        }

        await TargetVerifier.VerifyAsync(connection, portal.Emulator, mode, tables, qualify: target == "sqlite" ? "" : $"\"{schema}\".");
    }
}
