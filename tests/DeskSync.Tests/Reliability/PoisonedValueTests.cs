using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text;
using DeskSync.Core;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Reliability;

/// <summary>
/// A value that does not convert (an epoch past year 9999, text where a time belongs) never stops
/// anything: in the full load, in a poll and in a webhook it lands as NULL in its typed column and
/// exactly as sent in _raw, and the next change still applies.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class PoisonedValueTests : IDisposable
{
    private const string Poison = "99999999999999999";
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-poison-").FullName;

    private string Database => Path.Combine(_dir, "t.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_poisoned_time_lands_as_NULL_and_raw_in_the_full_load_a_poll_and_a_webhook_and_the_next_change_applies()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var ids = portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).ToList();
        var renewal = portal.Emulator.Portal.Fields("tickets").Single(f => f["displayLabel"]?.GetValue<string>() == "Renewal Date/Time")["apiName"]!.GetValue<string>();
        JsonObject Poisoned() => new() { ["dueDate"] = Poison, ["closedTime"] = "not a time", ["cf"] = new JsonObject { [renewal] = Poison } };

        // Full load.
        portal.Emulator.Portal.Update("tickets", ids[0], Poisoned());
        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.Equal(TableLoadStatus.Loaded, results.Single().Status);
        }

        var cfColumn = await ScalarAsync($"SELECT column_name FROM _desksync_columns WHERE table_name = 'tickets' AND label = 'Renewal Date/Time'");
        await AssertPoisonedAsync(ids[0], cfColumn!);

        // Poll.
        portal.Emulator.Portal.Update("tickets", ids[1], Poisoned());
        portal.Emulator.Portal.Update("tickets", ids[2], new JsonObject { ["subject"] = "after the poisoned one (poll)" });
        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        {
            await new Poller(client, sink).PollOnceAsync([DeskStreams.Tickets], null, CancellationToken.None);
        }

        await AssertPoisonedAsync(ids[1], cfColumn!);
        Assert.Equal("after the poisoned one (poll)", await ScalarAsync($"SELECT subject FROM tickets WHERE id = '{ids[2]}'"));

        // Webhook: the poisoned event, then another in the same delivery and one in the next.
        var token = ServiceUrlToken.New();
        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            await sync.StartReceiverAsync(CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            using var http = new HttpClient();
            var url = ServiceUrlToken.Url(sync.Server!.Address.ToString(), token);
            string Event(string id, string fields) => $"{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{portal.Emulator.Portal.OrgId}\",\"eventTime\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\",\"payload\":{{\"id\":\"{id}\",\"modifiedTime\":\"2099-01-01T00:00:00.000Z\",{fields}}}}}";
            await PostAsync(http, url, $"[{Event(ids[3], $"\"dueDate\":\"{Poison}\",\"closedTime\":\"not a time\",\"cf\":{{\"{renewal}\":\"{Poison}\"}}")},{Event(ids[4], "\"subject\":\"same delivery\"")}]");
            await PostAsync(http, url, $"[{Event(ids[5], "\"subject\":\"next delivery\"")}]");
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("ok", sync.Health().Status);
            Assert.Equal(0, sync.Applier!.EventsQuarantined);
            await stop.CancelAsync();
            await run;
        }

        await AssertPoisonedAsync(ids[3], cfColumn!);
        Assert.Equal("same delivery", await ScalarAsync($"SELECT subject FROM tickets WHERE id = '{ids[4]}'"));
        Assert.Equal("next delivery", await ScalarAsync($"SELECT subject FROM tickets WHERE id = '{ids[5]}'"));
    }

    private async Task AssertPoisonedAsync(string id, string cfColumn)
    {
        Assert.Null(await ScalarAsync($"SELECT due_date FROM tickets WHERE id = '{id}'"));
        Assert.Null(await ScalarAsync($"SELECT closed_time FROM tickets WHERE id = '{id}'"));
        Assert.Null(await ScalarAsync($"SELECT \"{cfColumn}\" FROM tickets WHERE id = '{id}'"));
        Assert.Equal(Poison, await ScalarAsync($"SELECT json_extract(_raw, '$.dueDate') FROM tickets WHERE id = '{id}'"));
        Assert.Equal("not a time", await ScalarAsync($"SELECT json_extract(_raw, '$.closedTime') FROM tickets WHERE id = '{id}'"));
    }

    private static async Task PostAsync(HttpClient http, string url, string body)
    {
        using var response = await http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<string?> ScalarAsync(string sql)
    {
        await using DbConnection connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync() is { } v and not DBNull ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
    }
}
