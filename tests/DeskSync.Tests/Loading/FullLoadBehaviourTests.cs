using System.Text.Json;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Loading;

[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed partial class FullLoadBehaviourTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-load-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(100)]
    [InlineData(150)]
    [InlineData(199)]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(1_000)]
    [InlineData(7_777)]
    public async Task A_complete_ticket_load_of_N_tickets_makes_at_most_1_2_ceil_N_100_plus_20_calls(int n)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = n } });
        var client = await portal.ConnectAsync();
        await using var sink = new SqliteSink(Path.Combine(_dir, "t.db"), SinkMode.Document);

        var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);

        var tickets = results.Single();
        Assert.Equal(n, await Count(sink.Path, "tickets"));
        Assert.True(tickets.Calls <= (1.2 * Math.Ceiling(n / 100.0)) + 20, $"{tickets.Calls} calls for {n} tickets");
        Assert.Equal(tickets.Calls, portal.Emulator.Api.Calls.Where(kv => kv.Key == "searchTickets").Sum(kv => kv.Value));
    }

    [Fact]
    public async Task The_oldest_and_the_newest_page_go_out_together_and_both_are_written_in_the_first_batch()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 1_000 } });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(300);
        var client = await portal.ConnectAsync();
        var first = new FirstBatch();
        var dir = Path.Combine(_dir, "first-batch");
        await using (var sink = new FileSink(dir, FileFormat.Jsonl, SinkMode.Document))
        {
            // One partition: after the two first calls, never more than one call at a time.
            await new FullLoad(client, sink, new SnapshotOptions { Partitions = 1 }).RunAsync([DeskStreams.Tickets], first, CancellationToken.None);
        }

        // The ticket module's field definitions, the oldest and the newest page: a planning call
        // made after the first page would show a peak of 2.
        Assert.Equal(3, portal.Emulator.Limits.PeakInFlight);
        var byCreated = portal.Emulator.Portal.List("tickets").OrderBy(t => t["createdTime"]!.GetValue<string>(), StringComparer.Ordinal).Select(t => t["id"]!.GetValue<string>()).ToList();
        var written = await IdsAsync(Path.Combine(dir, "tickets.jsonl"), FileFormat.Jsonl);
        var firstBatch = written.Take((int)first.Rows).ToHashSet(StringComparer.Ordinal);
        Assert.InRange(first.Rows, 199, 200);
        Assert.Superset(byCreated.Take(100).ToHashSet(StringComparer.Ordinal), firstBatch);
        Assert.Superset(byCreated.TakeLast(99).ToHashSet(StringComparer.Ordinal), firstBatch);
        Assert.Equal(byCreated.Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_field_definitions_are_read_while_the_first_pages_are_asked_for()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 300 } });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(300);
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "fields-together.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            // One partition: after the first round, never more than one call at a time.
            var result = (await new FullLoad(client, sink, new SnapshotOptions { Partitions = 1 }).RunAsync([DeskStreams.Tickets], null, CancellationToken.None)).Single();
            Assert.Equal(TableLoadStatus.Loaded, result.Status);
        }

        // The ticket module's field definitions and the oldest and newest page in flight at once;
        // reading the definitions first would show a peak of 2.
        Assert.Equal(3, portal.Emulator.Limits.PeakInFlight);
        await VerifyFlatAsync(path, portal, [DeskStreams.Tickets]); // the custom fields' columns are there and filled
    }

    [Fact]
    public async Task Field_definitions_that_fail_while_the_first_pages_are_in_flight_fail_the_load_with_their_own_error()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 3_000 } });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(100);
        // A token without Desk.settings: the field definitions are refused, the ticket search is not.
        var client = await portal.ConnectAsync(scopes: ["Desk.tickets.ALL", "Desk.search.READ", "Desk.basic.READ", "Desk.contacts.READ"]);
        var path = Path.Combine(_dir, "fields-fail.db");
        await using var sink = new SqliteSink(path, SinkMode.Flat);

        var recorder = new Recorder();
        var load = new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets, DeskStreams.Contacts], recorder, CancellationToken.None);

        var error = await Assert.ThrowsAsync<DeskSync.ZohoDesk.Api.ZohoApiException>(() => load.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("SCOPE_MISMATCH", error.ErrorCode);
        // The whole load fails, as when the definitions were read first: no table reports it as its own failure.
        Assert.Empty(recorder.Warnings);
        // Nothing was written without its columns: no table was made, no checkpoint says complete.
        Assert.Null(await sink.GetCheckpointAsync(TableCheckpoints.LoadStream(DeskStreams.Tickets), CancellationToken.None));
        Assert.Null(await sink.GetCheckpointAsync(TableCheckpoints.LoadStream(DeskStreams.Contacts), CancellationToken.None));
    }

    [Fact]
    public async Task A_partition_failing_while_the_last_one_waits_for_a_slot_fails_the_load_and_does_not_hang()
    {
        // The partition after the newest page starts only when a call slot is free near the end;
        // a failure before that must still end the load with the failure.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 3_000 } });
        var client = await FailingAfterTheOpeningAsync(portal);
        await using var sink = new SqliteSink(Path.Combine(_dir, "failing.db"), SinkMode.Flat);

        var load = new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<DeskSync.ZohoDesk.Api.ZohoApiException>(() => load.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(DeskSync.ZohoDesk.Api.ZohoFailureKind.Transient, error.Kind);
        var state = JsonDocument.Parse((await sink.GetCheckpointAsync(TableCheckpoints.LoadStream(DeskStreams.Tickets), CancellationToken.None))!.State).RootElement;
        Assert.Equal("running", state.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Pages_read_before_a_partition_fails_are_written_before_the_load_fails()
    {
        // The partitions fail while the first batch (the oldest and newest pages) waits for its
        // table: the failure is already there when the load looks for more batches to commit with
        // it. The pages Zoho answered are still written, and the checkpoint lets a resume skip them.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 3_000 } });
        var client = await FailingAfterTheOpeningAsync(portal);
        var path = Path.Combine(_dir, "failed-after-opening.db");
        await using var sink = new SlowTableSink(new SqliteSink(path, SinkMode.Flat), async () =>
        {
            // One partition and two attempts: both 500s served and counted by the client, which then gives up.
            await Eventually.UntilAsync(
                () => portal.Emulator.Faults.Pending <= 98 && client.Log.ByLabel.GetValueOrDefault(DeskStreams.Tickets.Name).Failures >= 2,
                "the partition's two attempts to fail");
        });

        var load = new FullLoad(client, sink, new SnapshotOptions { Partitions = 1 }).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<DeskSync.ZohoDesk.Api.ZohoApiException>(() => load.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(DeskSync.ZohoDesk.Api.ZohoFailureKind.Transient, error.Kind);
        // The partition's two failed attempts. On a busy machine one more call can meet a fault
        // before the error stops the load: the bound allows that call's two attempts and no more.
        Assert.InRange(portal.Emulator.Faults.Pending, 96, 98);
        var state = JsonDocument.Parse((await sink.GetCheckpointAsync(TableCheckpoints.LoadStream(DeskStreams.Tickets), CancellationToken.None))!.State).RootElement;
        Assert.Equal("running", state.GetProperty("status").GetString());
        var oldest = portal.Emulator.Portal.List("tickets").OrderBy(t => t["createdTime"]!.GetValue<string>(), StringComparer.Ordinal).Select(t => t["id"]!.GetValue<string>()).ToList();
        await using var db = new SqliteConnection($"Data Source={path};Pooling=false");
        await db.OpenAsync();
        var written = (await TargetVerifier.ReadRowsAsync(db, "SELECT id FROM tickets")).Keys.ToHashSet(StringComparer.Ordinal);

        // Both pages: the oldest hundred and the newest ones.
        Assert.InRange(written.Count, 199, 200);
        Assert.Superset(oldest.Take(100).ToHashSet(StringComparer.Ordinal), written);
        Assert.Superset(oldest.TakeLast(99).ToHashSet(StringComparer.Ordinal), written);
    }

    [Fact]
    public async Task Compressed_answers_are_asked_for_and_load_the_same_rows()
    {
        // Whether Zoho compresses is unknown: DeskSync asks (Accept-Encoding), and an emulator
        // that compresses for clients that ask sends every answer gzip- or Brotli-encoded.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 1_200 }, CompressAnswers = true });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "compressed.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.All, null, CancellationToken.None);
            Assert.All(results, r => Assert.Equal(TableLoadStatus.Loaded, r.Status));
        }

        // Every answer with a body (a 204 has none) went out compressed, none plain, and the
        // client's log knows each one (what `desksync check` and `sync` report).
        Assert.Equal(0, portal.Emulator.PlainAnswers);
        Assert.InRange(portal.Emulator.CompressedAnswers, 20, client.Log.TotalCalls);
        Assert.Equal(portal.Emulator.CompressedAnswers, client.Log.CompressedAnswers);
        Assert.True(client.Log.InflatedBytes > 1_200 * 2_000, $"{client.Log.InflatedBytes} bytes inflated");
        await VerifyFlatAsync(path, portal, DeskStreams.All);
    }

    [Fact]
    public async Task An_answer_larger_than_the_limit_once_decompressed_fails_its_table_without_retries()
    {
        // A ticket of 3 MB compresses to a few kilobytes: the limit holds on what the answer
        // expands to, not on what crossed the wire, so a compressed answer cannot blow up memory.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 150 }, CompressAnswers = true });
        portal.Emulator.Portal.Create("tickets", new System.Text.Json.Nodes.JsonObject { ["subject"] = new string('x', 3_000_000) });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxAnswerBytes = 1 << 20 });
        var recorder = new Recorder();
        await using var sink = new SqliteSink(Path.Combine(_dir, "too-large.db"), SinkMode.Flat);

        var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets, DeskStreams.Departments], recorder, CancellationToken.None);

        var tickets = results.Single(r => r.Table == DeskStreams.Tickets);
        Assert.Equal(TableLoadStatus.Failed, tickets.Status);
        Assert.Contains("more than 1 MB of JSON (decompressed)", tickets.Message, StringComparison.Ordinal);
        Assert.Equal(TableLoadStatus.Loaded, results.Single(r => r.Table == DeskStreams.Departments).Status);
        Assert.Single(recorder.Warnings);
        // The newest page holds the big ticket: asked for once, never again (the oldest page, the
        // newest, and no retry of either).
        Assert.InRange(portal.Emulator.Api.Calls["searchTickets"], 1, 2);
        Assert.Equal(0, portal.Emulator.PlainAnswers);
    }

    [Fact]
    public async Task Tables_load_together_and_report_in_the_order_asked()
    {
        // Four tables of one call each: loaded one after the other, never more than one call would be in flight.
        await using var portal = await TestPortal.StartAsync();
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(150);
        var client = await portal.ConnectAsync();
        DeskStream[] tables = [DeskStreams.Departments, DeskStreams.Agents, DeskStreams.Teams, DeskStreams.Products];
        var path = Path.Combine(_dir, "together.db");
        IReadOnlyList<TableLoadResult> results;
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(tables, null, CancellationToken.None);
        }

        Assert.True(portal.Emulator.Limits.PeakInFlight >= 3, $"at most {portal.Emulator.Limits.PeakInFlight} calls were in flight together");
        Assert.Equal(tables, results.Select(r => r.Table));
        Assert.All(results, r => Assert.Equal(TableLoadStatus.Loaded, r.Status));
        await VerifyFlatAsync(path, portal, tables);
    }

    [Fact]
    public async Task The_field_definitions_of_every_module_are_read_together()
    {
        // One call a module: read one after the other, never more than one call would be in flight.
        await using var portal = await TestPortal.StartAsync();
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(150);
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "fields.db");
        TableLoadResult result;
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            result = (await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.OrganizationFields], null, CancellationToken.None)).Single();
        }

        Assert.True(portal.Emulator.Limits.PeakInFlight >= 3, $"at most {portal.Emulator.Limits.PeakInFlight} calls were in flight together");
        Assert.Equal(DeskStreams.FieldModules.Count, result.Calls);
        await VerifyFlatAsync(path, portal, [DeskStreams.OrganizationFields]);
    }

    [Fact]
    public async Task One_table_failing_stops_the_others_and_its_own_error_comes_out()
    {
        // A sink that cannot write tickets: the load fails with the sink's error, not a cancellation of the other tables.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Contacts = 3_000 } });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(50);
        var client = await portal.ConnectAsync();
        await using var sink = new FailingOn("tickets", new SqliteSink(Path.Combine(_dir, "failing.db"), SinkMode.Flat));

        var error = await Assert.ThrowsAsync<SinkException>(() => new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Contacts, DeskStreams.Tickets], null, CancellationToken.None));

        Assert.Contains("tickets", error.Message, StringComparison.Ordinal);
        Assert.True(sink.ContactRows < 3_000, $"contacts went on loading after tickets failed ({sink.ContactRows} rows)");
    }

    [Fact]
    public async Task Detail_mode_reads_each_ticket_once_more_for_what_only_the_detail_has()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "detail.db");
        await using (var sink = new SqliteSink(path, SinkMode.Document))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions { DetailMode = true }).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.Equal(30, portal.Emulator.Api.Calls["getTicket"]);
            Assert.Equal(results.Single().Calls, portal.Emulator.Api.Calls["getTicket"] + portal.Emulator.Api.Calls["searchTickets"]);
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, "SELECT id, record FROM tickets");
        Assert.Equal(30, rows.Count);
        Assert.All(rows.Values, r =>
        {
            using var doc = JsonDocument.Parse((string)r["record"]!);
            Assert.True(doc.RootElement.TryGetProperty("layoutDetails", out _), "the detail answer's layoutDetails");
            Assert.True(doc.RootElement.TryGetProperty("cf", out _));
        });
    }

    [Fact]
    public async Task A_table_the_licence_forbids_is_skipped_and_the_rest_loads()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, LicenseLimitedTables = new HashSet<string> { "contracts" } });
        var client = await portal.ConnectAsync();
        var progress = new Recorder();
        await using var sink = new SqliteSink(Path.Combine(_dir, "lic.db"), SinkMode.Document);

        var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.All, progress, CancellationToken.None);

        Assert.Equal(TableLoadStatus.Skipped, results.Single(r => r.Table == DeskStreams.Contracts).Status);
        Assert.Contains(progress.Warnings, w => w.Contains("Contracts", StringComparison.Ordinal) && w.Contains("LICENSE_ACCESS_LIMITED", StringComparison.Ordinal));
        Assert.All(results.Where(r => r.Table != DeskStreams.Contracts), r => Assert.Equal(TableLoadStatus.Loaded, r.Status));
        Assert.Equal(30, await Count(sink.Path, "tickets"));
    }

    [Fact]
    public async Task Hostile_custom_field_names_become_safe_unique_columns_and_their_values_land_as_data()
    {
        await using var portal = await TestPortal.StartAsync();
        var evil = "\"; DROP TABLE tickets; --" + new string('x', 1_000);
        portal.Emulator.Portal.AddField("tickets", new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "9990001", ["apiName"] = evil, ["displayLabel"] = "`weird` label", ["type"] = "Text", ["isCustomField"] = true,
        });
        portal.Emulator.Portal.AddField("tickets", new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "9990002", ["apiName"] = "CF_ORDER", ["displayLabel"] = "Order (upper)", ["type"] = "Number", ["isCustomField"] = true,
        });
        var ticket = portal.Emulator.Portal.List("tickets")[0];
        portal.Emulator.Portal.Update("tickets", ticket["id"]!.GetValue<string>(), new System.Text.Json.Nodes.JsonObject
        {
            ["cf"] = new System.Text.Json.Nodes.JsonObject { [evil] = "'); DELETE FROM tickets; --", ["CF_ORDER"] = "12" },
        });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "evil.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        var columns = await TargetVerifier.ReadRowsAsync(connection, "SELECT column_name AS id, source, label FROM _desksync_columns WHERE table_name = 'tickets'");
        var evilColumn = columns.Values.Single(c => (string)c["source"]! == "cf." + evil)["id"] as string;
        Assert.Matches("^[a-z_][a-z0-9_]{0,62}$", evilColumn!);
        var upper = columns.Values.Single(c => (string)c["source"]! == "cf.CF_ORDER")["id"] as string;
        Assert.NotEqual("cf_order", upper); // cf_order (from "Order #") keeps its name; the case twin gets another
        Assert.Equal(columns.Count, columns.Keys.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        var rows = await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, \"{evilColumn}\" AS v, \"{upper}\" AS n FROM tickets WHERE id = '{ticket["id"]}'");
        Assert.Equal("'); DELETE FROM tickets; --", rows.Values.Single()["v"]);
        Assert.Equal(12L, rows.Values.Single()["n"]);
        Assert.Equal(30, await Count(path, "tickets"));
    }
}
