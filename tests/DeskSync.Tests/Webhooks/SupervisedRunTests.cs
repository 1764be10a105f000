using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using DeskSync.Core;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Webhooks;

/// <summary>
/// Nothing that can heal stops `run`: Zoho failing a re-read, Zoho failing at start, a read-only
/// target at start — the receiver keeps journaling, /healthz says why, and it catches up when
/// they return. A stuck applier turns /healthz to failing (503). The run's loops keep a fake clock.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
[Collection(PostgresOutages.Name)]
public sealed class SupervisedRunTests(RestartablePostgresServer postgres) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-supervised-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_reread_failing_for_a_while_is_retried_shown_in_health_and_applied_once_Zoho_heals()
    {
        await using var streaming = await StreamingAsync();
        var (portal, sync, token, run) = (streaming.Portal, streaming.Sync, streaming.Token, streaming.Run);
        var id = portal.Emulator.Portal.List("tickets")[0]["id"]!.GetValue<string>();

        portal.Emulator.Faults.ErrorRate = 1.0; // every Desk API call answers 500
        portal.Emulator.Portal.Update("tickets", id, new JsonObject { ["status"] = "Re-read me" });
        await PostAsync(sync, token, $"[{{\"eventType\":\"Ticket_Thread_Add\",\"orgId\":\"{portal.Emulator.Portal.OrgId}\",\"eventTime\":\"{_time.GetUtcNow().ToUnixTimeMilliseconds()}\",\"payload\":{{\"ticketId\":\"{id}\"}}}}]");
        await Eventually.UntilAsync(() => sync.Applier!.Failures >= 1, "a failed re-read");
        var health = sync.Health();
        Assert.Equal("degraded", health.Status);
        Assert.Contains(health.Reasons, r => r.StartsWith("Zoho refuses a re-read", StringComparison.Ordinal));
        await AdvanceUntilAsync(() => sync.Applier!.Failures >= 3, "more tries while Zoho fails");
        Assert.False(run.IsCompleted, "the run goes on");
        Assert.Equal(0, sync.Applier!.EventsApplied);

        portal.Emulator.Faults.ErrorRate = 0;
        await AdvanceUntilAsync(() => sync.Applier!.EventsApplied == 1, "the re-read once Zoho heals");
        Assert.Equal("ok", sync.Health().Status);
    }

    [Fact]
    public async Task A_stuck_applier_turns_healthz_to_failing_and_back_to_ok_when_it_moves()
    {
        var sink = new Stuck(new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Flat));
        await using var streaming = await StreamingAsync(sink);
        var (portal, sync, token, run) = (streaming.Portal, streaming.Sync, streaming.Token, streaming.Run);

        sink.Hold();
        await PostAsync(sync, token, await Webhook.TicketAdds(portal.Emulator.Portal.OrgId, ["9000000000001"]).ReadAsStringAsync());
        await Eventually.UntilAsync(() => sink.Held, "the applier to reach the stuck target");
        using var http = new HttpClient { BaseAddress = sync.Server!.AdminAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        _time.Advance(TimeSpan.FromMinutes(6)); // past StallAfter (5 minutes)
        using (var stuck = await http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stuck.StatusCode);
            var body = JsonDocument.Parse(await stuck.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("failing", body.GetProperty("status").GetString());
            Assert.Contains("nothing applied for 6 minutes", body.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("desksync_healthy -1\n", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        sink.Release();
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task An_applier_stopped_by_a_damaged_journal_ends_the_run_with_the_error_and_healthz_says_failing()
    {
        var sink = new Stuck(new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Flat));
        await using var streaming = await StreamingAsync(sink);
        var (portal, sync, token, run) = (streaming.Portal, streaming.Sync, streaming.Token, streaming.Run);

        sink.Hold();
        await PostAsync(sync, token, await Webhook.TicketAdds(portal.Emulator.Portal.OrgId, ["9000000000011"]).ReadAsStringAsync());
        await Eventually.UntilAsync(() => sink.Held, "the applier to hold the first delivery");
        await PostAsync(sync, token, await Webhook.TicketAdds(portal.Emulator.Portal.OrgId, ["9000000000012"]).ReadAsStringAsync());
        var segment = Directory.GetFiles(Path.Combine(_dir, "journal"), "*.journal").Single();
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Seek(-20, SeekOrigin.End); // inside the second delivery, which the applier has not read
            file.WriteByte(0x00);
        }

        sink.Release();
        var error = await Assert.ThrowsAsync<DeskSync.Core.Journal.JournalDamagedException>(() => run);
        Assert.Contains(segment, error.Message, StringComparison.Ordinal);
        var health = sync.Health();
        Assert.Equal("failing", health.Status);
        Assert.Equal(503, health.HttpStatus);
        Assert.StartsWith("the applier has stopped: Journal segment", health.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(1, sync.Applier!.EventsApplied);
    }

    [Fact]
    public async Task Started_with_Zoho_failing_the_receiver_journals_health_says_why_and_everything_lands_once_Zoho_returns()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        await using var sink = new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Flat);
        await using var sync = new RealtimeSync(client, sink, Options(portal, token));
        portal.Emulator.Faults.ErrorRate = 1.0;
        await sync.StartReceiverAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var run = sync.RunAsync(null, stop.Token);

        await Eventually.UntilAsync(() => sync.LoadError is not null, "the load to fail");
        Assert.Equal("degraded", sync.Health().Status);
        Assert.Contains(sync.Health().Reasons, r => r.StartsWith("the full load is waiting", StringComparison.Ordinal));
        await PostAsync(sync, token, await Webhook.TicketAdds(portal.Emulator.Portal.OrgId, ["9000000000002"]).ReadAsStringAsync());

        portal.Emulator.Faults.ErrorRate = 0;
        await AdvanceUntilAsync(() => sync.Streaming && sync.CaughtUp, "the load and the catch-up once Zoho returns");
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1, sync.Applier!.EventsApplied);
        Assert.Equal("ok", sync.Health().Status);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Started_with_a_read_only_target_the_receiver_journals_and_everything_lands_once_it_takes_writes()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        var schema = PostgresServer.NewSchema();
        await using var admin = await postgres.OpenAsync();
        await ReadOnlyAsync(admin, true);
        try
        {
            await using var sink = new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema);
            await using var sync = new RealtimeSync(client, sink, Options(portal, token));
            await sync.StartReceiverAsync(CancellationToken.None);
            using var stop = new CancellationTokenSource();
            var run = sync.RunAsync(null, stop.Token);
            await Eventually.UntilAsync(() => sync.LoadError is not null, "the load to fail");
            Assert.Contains("read-only", sync.LoadError, StringComparison.Ordinal);
            await PostAsync(sync, token, await Webhook.TicketAdds(portal.Emulator.Portal.OrgId, ["9000000000003"]).ReadAsStringAsync());

            await ReadOnlyAsync(admin, false);
            await AdvanceUntilAsync(() => sync.Streaming && sync.CaughtUp, "the load once the target takes writes");
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(1, sync.Applier!.EventsApplied);
            await stop.CancelAsync();
            await run;
        }
        finally
        {
            await ReadOnlyAsync(admin, false);
        }

        // Every ticket of the portal, and the one the webhook brought while the target was read-only.
        var rows = await TargetVerifier.ReadRowsAsync(admin, $"SELECT id FROM \"{schema}\".tickets");
        Assert.Equal(portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).Append("9000000000003").Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Right_after_a_restart_with_a_backlog_the_lag_is_the_age_of_the_oldest_waiting_event()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        var hourAgo = _time.GetUtcNow().AddHours(-1).ToUnixTimeMilliseconds();
        await using (var journal = DeskSync.Core.Journal.DurableJournal.Open(Path.Combine(_dir, "journal")))
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{portal.Emulator.Portal.OrgId}\",\"eventTime\":\"{hourAgo}\",\"payload\":{{\"id\":\"1\"}}}}]"));
        }

        await using var sink = new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Flat);
        await using var sync = new RealtimeSync(client, sink, Options(portal, token));
        await sync.StartReceiverAsync(CancellationToken.None);

        var metrics = sync.Metrics();
        var lag = metrics.Split('\n').Single(l => l.StartsWith("desksync_apply_lag_seconds ", StringComparison.Ordinal));
        Assert.InRange(double.Parse(lag.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 3599.9, 3600.1);
        Assert.DoesNotContain("desksync_journal_backlog_bytes 0\n", metrics, StringComparison.Ordinal);
    }

    /// <summary>A portal, a run streaming into <paramref name="sink"/> (SQLite by default) on the fake clock, its catch-up done.</summary>
    private async Task<Streaming> StreamingAsync(ISink? sink = null)
    {
        var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        sink ??= new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Flat);
        var sync = new RealtimeSync(client, sink, Options(portal, token));
        await sync.StartReceiverAsync(CancellationToken.None);
        var (run, stop) = await Realtime.StartStreamingAsync(sync);
        await Eventually.UntilAsync(() => sync.CaughtUp, "the catch-up");
        return new Streaming(portal, sink, sync, token, run, stop);
    }

    private sealed record Streaming(TestPortal Portal, ISink Sink, RealtimeSync Sync, string Token, Task Run, CancellationTokenSource Stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Stop.CancelAsync();
            await Run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Stop.Dispose();
            await Sync.DisposeAsync();
            await Sink.DisposeAsync();
            await Portal.DisposeAsync();
        }
    }

    private RealtimeSyncOptions Options(TestPortal portal, string token) =>
        Realtime.Options(portal, _dir, [DeskStreams.Tickets], token) with { Time = _time };

    private static async Task ReadOnlyAsync(System.Data.Common.DbConnection admin, bool on)
    {
        foreach (var sql in new[] { "SET default_transaction_read_only = off", on ? "ALTER SYSTEM SET default_transaction_read_only = on" : "ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()" })
        {
            await using var command = admin.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task PostAsync(RealtimeSync sync, string token, string body)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Moves the fake clock on a second at a time (the retries' waits) until the condition holds.</summary>
    private async Task AdvanceUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
    }

    /// <summary>A target whose writes hang while held, as a database stuck on a lock would.</summary>
    private sealed class Stuck(ISink inner) : DelegatingSink(inner)
    {
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _holding;

        public bool Held { get; private set; }

        public void Hold() => _holding = true;

        public void Release()
        {
            _holding = false;
            _gate.TrySetResult();
        }

        public override async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
        {
            if (_holding)
            {
                Held = true;
                await _gate.Task.WaitAsync(cancellationToken);
            }

            await base.ApplyAsync(schema, events, checkpoint, cancellationToken);
        }
    }
}
