using System.Text.Json;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Loading;

/// <summary>Loads killed and resumed: exactly once, fewer calls, every target kind.</summary>
public sealed partial class FullLoadBehaviourTests
{
    [Fact]
    public async Task A_load_killed_midway_resumes_exactly_with_fewer_calls_than_a_fresh_one()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 6_000, Contacts = 1_500 } });
        var path = Path.Combine(_dir, "resume.db");
        using var kill = new CancellationTokenSource();
        var progress = new KillAfter(DeskStreams.Tickets, 2_500, kill);

        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var first = await portal.ConnectAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FullLoad(first, sink, new SnapshotOptions()).RunAsync(DeskStreams.Default, progress, kill.Token));
        }

        var partial = await Count(path, "tickets");
        Assert.InRange(partial, 2_500, 5_999);

        // Tables load together: which of them finished before the kill depends on timing, and
        // their checkpoints say which.
        var finished = new List<DeskStream>();
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            foreach (var table in DeskStreams.Default)
            {
                if (await sink.GetCheckpointAsync(TableCheckpoints.LoadStream(table), default) is { } saved && saved.State.Contains("\"status\":\"complete\"", StringComparison.Ordinal))
                {
                    finished.Add(table);
                }
            }
        }

        Assert.NotEmpty(finished);
        Assert.DoesNotContain(DeskStreams.Tickets, finished);

        var resumedClient = await portal.ConnectAsync();
        IReadOnlyList<TableLoadResult> resumed;
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            resumed = await new FullLoad(resumedClient, sink, new SnapshotOptions()).RunAsync(DeskStreams.Default, null, CancellationToken.None);
        }

        // Finished tables are not read again; the others (tickets among them) are loaded, tickets from the committed cursors.
        foreach (var result in resumed)
        {
            Assert.Equal(finished.Contains(result.Table) ? TableLoadStatus.AlreadyLoaded : TableLoadStatus.Loaded, result.Status);
            Assert.True(!finished.Contains(result.Table) || result.Calls == 0, $"{result.Table.Name} was read again");
        }

        var resumedTicketCalls = resumed.Single(r => r.Table == DeskStreams.Tickets).Calls;

        var freshClient = await portal.ConnectAsync();
        await using (var fresh = new SqliteSink(Path.Combine(_dir, "fresh.db"), SinkMode.Flat))
        {
            var freshResults = await new FullLoad(freshClient, fresh, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.True(resumedTicketCalls < freshResults.Single().Calls, $"resumed {resumedTicketCalls} calls, fresh {freshResults.Single().Calls}");
        }

        await VerifyFlatAsync(path, portal, DeskStreams.Default);
    }

    [Fact]
    public async Task A_load_killed_twice_into_a_JSONL_change_log_writes_every_ticket_exactly_once()
    {
        // The cursor resumes at the last page's millisecond, where Zoho returns records already
        // written; the checkpoint keeps their ids so that a change log gets no second line.
        // A commit may hold up to ~700 records (waiting pages go together), so the three kills,
        // counted from each run's start, end the runs before the last of the 6,000 tickets.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 6_000 } });
        var dir = Path.Combine(_dir, "killed-jsonl");
        foreach (var at in new[] { 150, 1_200, 2_000 })
        {
            using var kill = new CancellationTokenSource();
            await using var sink = new FileSink(dir, FileFormat.Jsonl, SinkMode.Document);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FullLoad(portal.ConnectAsync().Result, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], new KillAfter(DeskStreams.Tickets, at, kill), kill.Token));
        }

        await ResumeAndCheckEveryTicketLoggedOnceAsync(portal, dir);
    }

    [Fact]
    public async Task Pages_waiting_for_a_slow_target_are_committed_together_and_a_load_killed_between_such_commits_resumes_exactly()
    {
        // The target takes 100 ms a commit and the reader none: pages wait, and each commit takes
        // those already read (up to CoalescedRows) with the state after the last of them. A state
        // from an earlier page would make the resumed load read, and log, records a second time.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 4_000 }, DailyCredits = 10_000_000 });
        var dir = Path.Combine(_dir, "slow-jsonl");
        var commits = new List<int>();
        using (var kill = new CancellationTokenSource())
        {
            await using var sink = new SlowCommits(new FileSink(dir, FileFormat.Jsonl, SinkMode.Document), TimeSpan.FromMilliseconds(100), commits);
            var client = await portal.ConnectAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], new KillAfter(DeskStreams.Tickets, 1_500, kill), kill.Token));
        }

        // No single batch holds more than 200 records (the oldest and newest pages together).
        Assert.Contains(commits, rows => rows > 200);
        Assert.All(commits, rows => Assert.InRange(rows, 1, FullLoad.CoalescedRows + 200));
        Assert.InRange(commits.Sum(), 1_500, 3_999);

        await ResumeAndCheckEveryTicketLoggedOnceAsync(portal, dir);
    }

    [Theory]
    [InlineData(FileFormat.Jsonl, SinkMode.Document)]
    [InlineData(FileFormat.Jsonl, SinkMode.Flat)]
    [InlineData(FileFormat.Csv, SinkMode.Flat)]
    public async Task File_targets_hold_one_line_per_record_and_cut_an_uncommitted_tail_on_restart(FileFormat format, SinkMode mode)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 450 } });
        var client = await portal.ConnectAsync();
        var dir = Path.Combine(_dir, $"{format}-{mode}");
        await using (var sink = new FileSink(dir, format, mode))
        {
            await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.All, null, CancellationToken.None);
        }

        var file = Path.Combine(dir, "tickets." + (format == FileFormat.Jsonl ? "jsonl" : "csv"));
        var ids = await IdsAsync(file, format);
        Assert.Equal(portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).Order(StringComparer.Ordinal), ids.Distinct().Order(StringComparer.Ordinal));

        // A crash mid-batch leaves a partial line: the next start cuts it off.
        var length = new FileInfo(file).Length;
        await File.AppendAllTextAsync(file, format == FileFormat.Jsonl ? "{\"op\":\"r\",\"id\":\"12" : "r,123,\"half");
        await using (var sink = new FileSink(dir, format, mode))
        {
            await sink.InitializeAsync(CancellationToken.None);
        }

        Assert.Equal(length, new FileInfo(file).Length);
        if (format == FileFormat.Jsonl)
        {
            foreach (var line in await File.ReadAllLinesAsync(file))
            {
                using var doc = JsonDocument.Parse(line);
                Assert.Equal("r", doc.RootElement.GetProperty("op").GetString());
                if (mode == SinkMode.Flat)
                {
                    Assert.True(doc.RootElement.GetProperty("record").TryGetProperty("cf_customer_refund_if_any", out _));
                }
            }
        }
    }
}
