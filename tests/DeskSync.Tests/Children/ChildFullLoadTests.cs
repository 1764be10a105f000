using System.Globalization;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Children;

/// <summary>The ticket's children in a full load: complete, listed only where the ticket's counts say there are any, past the offset wall of one list.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ChildFullLoadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-children-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IReadOnlyList<DeskStream> Children => [DeskStreams.TicketThreads, DeskStreams.TicketComments, DeskStreams.TicketAttachments, DeskStreams.TicketTimeEntries, DeskStreams.TicketTags, DeskStreams.TicketHistory, DeskStreams.Tags];

    [Theory]
    [InlineData(SinkMode.Flat)]
    [InlineData(SinkMode.Document)]
    public async Task Children_load_completely_with_a_list_call_only_for_tickets_that_have_them(SinkMode mode)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 80, LongConversations = 1 } });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, $"{mode}.db");
        await using (var sink = new SqliteSink(path, mode))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.WithParents(Children), null, CancellationToken.None);
            Assert.All(results, r => Assert.True(r.Status == TableLoadStatus.Loaded, $"{r.Table.Name}: {r.Status} {r.Message}"));
        }

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, mode, Children);

        var tickets = portal.Emulator.Portal.List("tickets");
        int Count(System.Text.Json.Nodes.JsonObject t, string field) => int.Parse(t[field]!.ToString(), CultureInfo.InvariantCulture);
        // A page per call, stopping at a short page; the conversation of 5,600 threads is read
        // 5,000 oldest first (the deepest offset) and the rest newest first until the two meet.
        var longOnes = tickets.Where(t => Count(t, "threadCount") > 5_000).ToList();
        Assert.Single(longOnes);
        var size = DeskStreams.TicketThreads.PageSize;
        var threadPages = tickets.Except(longOnes).Where(t => Count(t, "threadCount") > 0).Sum(t => Count(t, "threadCount") / size + 1) + (5_000 / size) + (600 / size) + 1;
        var commentPages = tickets.Where(t => Count(t, "commentCount") > 0).Sum(t => Count(t, "commentCount") / 100 + 1);
        var calls = portal.Emulator.Api.Calls;
        Assert.Equal(threadPages, calls["getThreads"]);
        Assert.Equal(tickets.Sum(t => Count(t, "threadCount")), calls["getThread"]); // each thread's content, once
        Assert.Equal(commentPages, calls["getTicketComments"]);
        Assert.True(tickets.Any(t => Count(t, "threadCount") == 0) && tickets.Any(t => Count(t, "commentCount") == 0), "the portal has tickets without threads or comments, which cost no call");
        // Search answers carry no attachment, time-entry or tag count: one detail per ticket, shared
        // by the three kinds, tells which to list; a ticket without any costs no list.
        Assert.Equal(tickets.Count, calls["getTicket"]);
        Assert.Equal(tickets.Count(t => Count(t, "attachmentCount") > 0), calls["getTicketAttachments"]);
        Assert.Equal(tickets.Count(t => Count(t, "timeEntryCount") > 0), calls["getTicketTimeEntries"]);
        Assert.Equal(tickets.Count(t => Count(t, "tagCount") > 0), calls["getTicketTags"]); // one answer each, no paging
        Assert.True(tickets.Any(t => Count(t, "attachmentCount") == 0) && tickets.Any(t => Count(t, "tagCount") == 0), "the portal has tickets without attachments or tags");
        // The tag catalogue: one list per department.
        Assert.Equal(portal.Emulator.Portal.Count("departments"), calls["getTicketsTags"]);
        // Every ticket has a history (its creation at least), 50 entries a page.
        Assert.Equal(tickets.Sum(t => (portal.Emulator.Portal.History(t["id"]!.GetValue<string>())!.Count / 50) + 1), calls["getTicketHistory"]);

        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM ticket_threads WHERE ticket_id = $id";
        command.Parameters.AddWithValue("$id", longOnes[0]["id"]!.GetValue<string>());
        Assert.Equal(5_600L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task With_summaries_only_no_thread_is_read_for_its_content()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 40 } });
        var path = Path.Combine(_dir, "summaries.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions { ThreadContent = false }).RunAsync([DeskStreams.TicketThreads], null, CancellationToken.None);
        }

        Assert.False(portal.Emulator.Api.Calls.ContainsKey("getThread"));
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COUNT(content), COUNT(summary) FROM ticket_threads";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.True(reader.GetInt64(0) > 100, "threads were loaded");
        Assert.Equal(0, reader.GetInt64(1));
        Assert.Equal(reader.GetInt64(0), reader.GetInt64(2));
    }

    [Fact]
    public async Task A_load_stopped_part_way_goes_on_from_the_last_ticket_batch_written()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 400 } });
        var path = Path.Combine(_dir, "resume.db");
        var first = await portal.ConnectAsync();
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            using var stop = new CancellationTokenSource();
            var progress = new KillAfter(DeskStreams.TicketComments, 150, stop);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FullLoad(first, sink, new SnapshotOptions()).RunAsync([DeskStreams.TicketComments], progress, stop.Token));
        }

        var before = portal.Emulator.Api.Calls.GetValueOrDefault("getTicketComments");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var results = await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions()).RunAsync([DeskStreams.TicketComments], null, CancellationToken.None);
            Assert.Equal(TableLoadStatus.Loaded, results[0].Status);
        }

        var tickets = portal.Emulator.Portal.List("tickets").Count(t => t["commentCount"]!.ToString() != "0");
        var resumedCalls = portal.Emulator.Api.Calls["getTicketComments"] - before;
        Assert.True(resumedCalls < tickets, $"the resumed load listed {resumedCalls} tickets' comments of {tickets}: it started over");

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, [DeskStreams.TicketComments]);
    }

    [Fact]
    public async Task A_reload_brings_back_the_children_a_tickets_delete_took_once_the_ticket_is_restored()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 30 } });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "restored.db");
        var ticket = portal.Emulator.Portal.List("tickets").First(t => t["threadCount"]!.ToString() != "0")["id"]!.GetValue<string>();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        await using var sink = new SqliteSink(path, SinkMode.Flat);
        var load = new FullLoad(client, sink, new SnapshotOptions(), clock);
        await load.RunAsync([DeskStreams.TicketThreads], null, CancellationToken.None);
        var schema = FullLoad.SchemaOf(DeskStreams.TicketThreads, load.Fields);
        var threads = (await sink.ChildKeysAsync(schema, ticket, CancellationToken.None))!.Count;
        Assert.True(threads > 0);

        // The ticket went to the recycle bin a moment ago (its delete took its threads, tombstones and all) and came back.
        await sink.ApplyAsync(schema, [new ChangeEvent(ChangeOp.Delete, schema.Name, ticket, null, clock.GetUtcNow(), "test") { Scope = ParentScope.All }], null, CancellationToken.None);
        Assert.Empty((await sink.ChildKeysAsync(schema, ticket, CancellationToken.None))!);
        clock.Advance(TimeSpan.FromSeconds(1));
        await new FullLoad(client, sink, new SnapshotOptions { FullRefresh = true }, clock).RunAsync([DeskStreams.TicketThreads], null, CancellationToken.None);

        Assert.Equal(threads, (await sink.ChildKeysAsync(schema, ticket, CancellationToken.None))!.Count);
    }
}
