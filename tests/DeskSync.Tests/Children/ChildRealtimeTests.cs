using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Children;

/// <summary>
/// The ticket's children kept current by webhooks: a comment's events apply from their payload
/// without a call; what Zoho sends no event for (a thread's delete, time entries) is read again
/// when the ticket changes; a ticket's delete takes its children with it, hard or soft.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ChildRealtimeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-child-rt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(DeleteMode.Hard)]
    [InlineData(DeleteMode.Soft)]
    public async Task Child_events_apply_from_their_payload_and_the_rest_is_read_again_when_the_ticket_changes(DeleteMode deletes)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 40 } });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "children.db");
        await using ISink sink = new SqliteSink(path, SinkMode.Flat) { DeleteMode = deletes };
        var tables = DeskStreams.WithParents(ChildFullLoadTests.Children);
        var token = ServiceUrlToken.New();
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, tables, token));
        await sync.StartReceiverAsync(CancellationToken.None);
        await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), tables, "DeskSync test", CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var run = sync.RunAsync(null, stop.Token);
        // The catch-up after Zoho checked the service URL reads changed tickets' children: counted calls start after it.
        await Eventually.UntilAsync(() => sync.Streaming && sync.CatchUpPolls >= 2, "the full load and the catch-up polls");

        await using var db = new SqliteConnection($"Data Source={path};Pooling=False");
        await db.OpenAsync();
        var emulator = portal.Emulator.Portal;
        var calls = portal.Emulator.Api.Calls;
        var ticket = emulator.List("tickets").First(t => t["threadCount"]!.ToString() is not ("0" or "1") && t["commentCount"]!.ToString() != "0")["id"]!.GetValue<string>();

        // Each step counts calls from a baseline taken once the previous step's events (a thread's
        // own event and the ticket's update that follows it) are all delivered and applied.
        async Task SettledAsync()
        {
            await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        }

        // A comment added and edited: its events carry it whole, and the ticket's count matches what the target holds.
        await SettledAsync();
        var commentCalls = calls.GetValueOrDefault("getTicketComments");
        var comment = emulator.AddChild("comments", ticket, new JsonObject { ["content"] = "<div>first words</div>" })!["id"]!.GetValue<string>();
        await Eventually.UntilAsync(async () => await ScalarAsync(db, "SELECT content FROM ticket_comments WHERE id = $id", comment) as string == "<div>first words</div>", "the new comment");
        emulator.UpdateChild("comments", ticket, comment, new JsonObject { ["content"] = "<div>second words</div>" });
        await Eventually.UntilAsync(async () => await ScalarAsync(db, "SELECT content FROM ticket_comments WHERE id = $id", comment) as string == "<div>second words</div>", "the edited comment");
        Assert.Equal(commentCalls, calls.GetValueOrDefault("getTicketComments"));

        // A thread added: its event has the summary, so the thread is read once for its content.
        await SettledAsync();
        var contentCalls = calls.GetValueOrDefault("getThread");
        var added = emulator.AddChild("threads", ticket, null)!;
        await Eventually.UntilAsync(async () => await ScalarAsync(db, "SELECT content FROM ticket_threads WHERE id = $id", added["id"]!.GetValue<string>()) as string == added["content"]!.GetValue<string>(), "the new thread's content");
        Assert.Equal(contentCalls + 1, calls.GetValueOrDefault("getThread"));

        // A thread deleted (no event): the ticket's update names it, its threads are listed again;
        // those the target holds keep their content without being read again.
        var thread = emulator.Children("threads", ticket)![1]["id"]!.GetValue<string>();
        await SettledAsync();
        var listings = calls.GetValueOrDefault("getThreads");
        emulator.DeleteChild("threads", ticket, thread);
        await Eventually.UntilAsync(async () => await Live(db, "ticket_threads", thread, deletes) == false, "the deleted thread gone from the target");
        Assert.Equal(listings + 1, calls.GetValueOrDefault("getThreads"));
        Assert.Equal(contentCalls + 1, calls.GetValueOrDefault("getThread"));
        Assert.Equal(0L, await CountAsync(db, "SELECT COUNT(*) FROM ticket_threads WHERE ticket_id = $id AND _deleted_at IS NULL AND content IS NULL", ticket));

        // A time entry (Zoho sends no event for time entries at all).
        var entry = emulator.AddChild("timeEntries", ticket, new JsonObject { ["description"] = "phone call with the customer" })!["id"]!.GetValue<string>();
        await Eventually.UntilAsync(async () => await ScalarAsync(db, "SELECT description FROM ticket_time_entries WHERE id = $id", entry) as string == "phone call with the customer", "the new time entry");

        // The ticket's status changed: its history is read again (one page) and has the change, who made it and when.
        await SettledAsync();
        var historyCalls = calls.GetValueOrDefault("getTicketHistory");
        emulator.Update("tickets", ticket, new JsonObject { ["status"] = "On Hold" });
        await Eventually.UntilAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM ticket_history WHERE ticket_id = $id AND event_name = 'TicketUpdated' AND event_info LIKE '%\"updatedValue\":\"On Hold\"%'", ticket) == 1, "the status change in the ticket's history");
        Assert.Equal(historyCalls + 1, calls.GetValueOrDefault("getTicketHistory"));
        Assert.Equal(1L, await CountAsync(db, "SELECT COUNT(*) FROM ticket_history WHERE ticket_id = $id AND event_name = 'CommentEdited'", ticket));

        // The ticket deleted: its children go with it.
        emulator.Delete("tickets", ticket);
        await Eventually.UntilAsync(async () => await LiveChildrenAsync(db, ticket) == 0, "the deleted ticket's children gone");
        if (deletes == DeleteMode.Soft)
        {
            Assert.True(await CountAsync(db, "SELECT COUNT(*) FROM ticket_threads WHERE ticket_id = $id AND _deleted_at IS NOT NULL", ticket) > 0, "soft deletes keep the rows, marked");
        }

        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await run;
        if (deletes == DeleteMode.Hard)
        {
            await TargetVerifier.VerifyAsync(db, portal.Emulator, SinkMode.Flat, tables);
        }
    }

    [Fact]
    public async Task A_threads_own_event_after_its_listing_wrote_it_costs_no_read()
    {
        // The ticket's update can reach DeskSync before the thread's own event (an event late or
        // sent again): its listing writes the thread with its content, and the event then finds it held.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 20 } });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "late.db");
        await using ISink sink = new SqliteSink(path, SinkMode.Flat);
        var token = ServiceUrlToken.New();
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, DeskStreams.WithParents([DeskStreams.Find("ticket_threads")!]), token));
        await sync.StartReceiverAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var run = sync.RunAsync(null, stop.Token);
        await Eventually.UntilAsync(() => sync.Streaming && sync.CaughtUp, "the full load and the catch-up");

        var emulator = portal.Emulator.Portal;
        var ticket = emulator.List("tickets").First(t => t["threadCount"]!.ToString() != "0")["id"]!.GetValue<string>();
        var held = emulator.Children("threads", ticket)![0];
        var added = emulator.AddChild("threads", ticket, null)!; // no webhook is registered: only the event below tells of it
        var reads = portal.Emulator.Api.Calls.GetValueOrDefault("getThread");
        using (var http = new HttpClient())
        {
            using var response = await http.PostAsync(ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), new StringContent(ThreadAdds(emulator.OrgId, ticket, held, added), System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await run;
        Assert.Equal(reads + 1, portal.Emulator.Api.Calls.GetValueOrDefault("getThread")); // the new thread's content, and only that
        await using var db = new SqliteConnection($"Data Source={path};Pooling=False");
        await db.OpenAsync();
        foreach (var thread in new[] { held, added })
        {
            Assert.Equal(thread["content"]!.GetValue<string>(), await ScalarAsync(db, "SELECT content FROM ticket_threads WHERE id = $id", thread["id"]!.ToString()) as string);
        }
    }

    /// <summary>Ticket_Thread_Add events, as Zoho sends them (the thread's list item with its ticket's id).</summary>
    private static string ThreadAdds(string orgId, string ticket, params JsonObject[] threads) =>
        new JsonArray([.. threads.Select(t => (JsonNode)new JsonObject
        {
            ["eventType"] = "Ticket_Thread_Add",
            ["orgId"] = orgId,
            ["eventTime"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["payload"] = new JsonObject { ["id"] = t["id"]!.DeepClone(), ["ticketId"] = ticket, ["summary"] = t["summary"]?.DeepClone(), ["createdTime"] = t["createdTime"]!.DeepClone() },
        })]).ToJsonString();

    private static async Task<object?> ScalarAsync(SqliteConnection db, string sql, string id)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync();
    }

    private static async Task<long> CountAsync(SqliteConnection db, string sql, string id) => (long)(await ScalarAsync(db, sql, id))!;

    /// <summary>Whether the row is there and not marked deleted; null when it never was.</summary>
    private static async Task<bool?> Live(SqliteConnection db, string table, string id, DeleteMode deletes)
    {
        var rows = await CountAsync(db, $"SELECT COUNT(*) FROM {table} WHERE id = $id", id);
        var live = await CountAsync(db, $"SELECT COUNT(*) FROM {table} WHERE id = $id AND _deleted_at IS NULL", id);
        return rows == 0 ? (deletes == DeleteMode.Hard ? false : null) : live > 0;
    }

    private static async Task<long> LiveChildrenAsync(SqliteConnection db, string ticket)
    {
        long total = 0;
        foreach (var table in new[] { "ticket_threads", "ticket_comments", "ticket_attachments", "ticket_time_entries", "ticket_tags", "ticket_history" })
        {
            total += await CountAsync(db, $"SELECT COUNT(*) FROM {table} WHERE ticket_id = $id AND _deleted_at IS NULL", ticket);
        }

        return total;
    }
}
