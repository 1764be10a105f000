using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text;
using DeskSync.Core;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Webhooks;

/// <summary>Zoho sends a delivery again when our 200 came late: the second copy — in the same run, or after a restart — changes nothing in any target.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class RedeliveryTests(PostgresServer postgres) : IDisposable, IClassFixture<PostgresServer>
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-redeliver-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    [InlineData("jsonl")]
    [InlineData("csv")]
    public async Task A_delivery_sent_again_changes_nothing_in_the_target_and_is_counted(string target)
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var schema = PostgresServer.NewSchema();
        ISink Open() => target switch
        {
            "sqlite" => new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Flat),
            "postgres" => new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema),
            "jsonl" => new FileSink(Path.Combine(_dir, "out"), FileFormat.Jsonl, SinkMode.Flat),
            _ => new FileSink(Path.Combine(_dir, "out"), FileFormat.Csv, SinkMode.Flat),
        };

        var ids = portal.Emulator.Portal.List("tickets").Take(3).Select(t => t["id"]!.GetValue<string>()).ToList();
        var eventTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var events = ids.Select(id => $"{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{portal.Emulator.Portal.OrgId}\",\"eventTime\":\"{eventTime}\",\"payload\":{{\"id\":\"{id}\",\"status\":\"Escalated\",\"modifiedTime\":\"2099-01-01T00:00:00.000Z\"}}}}").ToList();
        var body = "[" + string.Join(',', events) + "," + events[0] + "]"; // the first event twice in one delivery
        var token = ServiceUrlToken.New();
        string before;

        await using (var sink = Open())
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            await sync.StartReceiverAsync(CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            using var http = new HttpClient();
            var url = ServiceUrlToken.Url(sync.Server!.Address.ToString(), token);

            var first = await PostAsync(http, url, body);
            Assert.Equal("""{"accepted":3,"duplicates":1}""", first);
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            before = await TargetStateAsync(target, schema, ids);

            var again = await PostAsync(http, url, body);
            Assert.Equal("""{"accepted":0,"duplicates":4}""", again);
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            Assert.Contains("desksync_webhook_duplicates_total 5\n", sync.Metrics(), StringComparison.Ordinal);
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal(before, await TargetStateAsync(target, schema, ids));

        // After a restart the receiver still knows the events: it rebuilt its memory from the journal.
        await using (var sink = Open())
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            await sync.StartReceiverAsync(CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            using var http = new HttpClient();
            Assert.Equal("""{"accepted":0,"duplicates":4}""", await PostAsync(http, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), body));
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal(before, await TargetStateAsync(target, schema, ids));
        Assert.Contains("Escalated", before, StringComparison.Ordinal);
    }

    private static async Task<string> PostAsync(HttpClient http, string url, string body)
    {
        using var response = await http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Everything a repeat could change: the files' bytes, or the rows with their _synced_at.</summary>
    private async Task<string> TargetStateAsync(string target, string schema, IReadOnlyList<string> ids)
    {
        if (target is "jsonl" or "csv")
        {
            var file = Path.Combine(_dir, "out", "tickets." + target);
            return await File.ReadAllTextAsync(file);
        }

        await using DbConnection connection = target == "sqlite" ? new SqliteConnection($"Data Source={Path.Combine(_dir, "t.db")};Pooling=False") : await postgres.OpenAsync();
        if (target == "sqlite")
        {
            await connection.OpenAsync();
        }

        var table = target == "sqlite" ? "tickets" : $"\"{schema}\".tickets";
        var rows = await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, status, _synced_at FROM {table} WHERE id IN ({string.Join(',', ids.Select(i => $"'{i}'"))})");
        return JsonSerializer.Serialize(rows.OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => r.Value.ToDictionary(c => c.Key, c => Convert.ToString(c.Value, CultureInfo.InvariantCulture))));
    }
}
