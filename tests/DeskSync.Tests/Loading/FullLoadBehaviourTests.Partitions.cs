using System.Text.Json;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Loading;

/// <summary>The createdTime partitions: records sharing milliseconds at their edges, crowded last moments, the 5,000-row offset wall.</summary>
public sealed partial class FullLoadBehaviourTests
{
    [Theory]
    [InlineData(new[] { 150 })]
    [InlineData(new[] { 60, 80, 60 })]
    [InlineData(new[] { 99, 2, 99 })]
    [InlineData(new[] { 50, 100, 50 })]
    [InlineData(new[] { 100, 100 })]
    [InlineData(new[] { 100, 0, 0, 0, 0, 100 })]
    [InlineData(new[] { 1, 98, 1, 1, 98, 1 })]
    [InlineData(new[] { 101, 1, 0, 30, 250, 99 })]
    public async Task Tickets_sharing_milliseconds_where_the_oldest_and_newest_pages_meet_are_written_exactly_once(int[] perMillisecond)
    {
        // The emulator's clock stands still while tickets are created, then moves one millisecond:
        // ties at the first page's last millisecond and the newest page's first are the cases
        // where the two pages (or a partition and either page) could share or miss records.
        var clock = new StandingClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 0 }, Time = clock });
        foreach (var count in perMillisecond)
        {
            for (var i = 0; i < count; i++)
            {
                portal.Emulator.Portal.Create("tickets", new System.Text.Json.Nodes.JsonObject { ["subject"] = $"tied {i}" });
            }

            clock.Now += TimeSpan.FromMilliseconds(1);
        }

        var dir = Path.Combine(_dir, "ties");
        await using (var sink = new FileSink(dir, FileFormat.Jsonl, SinkMode.Document))
        {
            var result = await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.Equal(TableLoadStatus.Loaded, result.Single().Status);
        }

        var ids = await IdsAsync(Path.Combine(dir, "tickets.jsonl"), FileFormat.Jsonl);
        var twice = ids.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} tickets were written twice");
        Assert.Equal(portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Contacts_past_the_5000_offset_wall_load_completely()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Contacts = 6_200 } });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "contacts.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Contacts], null, CancellationToken.None);
            Assert.Equal(6_200, results.Single().Rows);
        }

        Assert.False(portal.Emulator.Api.Calls.ContainsKey("error:UNPROCESSABLE_ENTITY"));
        await VerifyFlatAsync(path, portal, [DeskStreams.Contacts]);
    }

    [Fact]
    public async Task Tickets_crowded_into_the_last_moments_are_shared_out_by_splitting_partitions_and_load_exactly()
    {
        // 2,000 tickets over two years, then 3,000 in the last second: equal time partitions would
        // leave one partition with 30 pages to read alone. The emulator's clock moves one
        // millisecond every 4 tickets (750 ms in all): denser milliseconds would cost calls of
        // their own, since each page starts again at its cursor's millisecond.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 2_000 }, Time = clock });
        for (var i = 0; i < 3_000; i++)
        {
            portal.Emulator.Portal.Create("tickets", new System.Text.Json.Nodes.JsonObject { ["subject"] = $"burst {i}" });
            if (i % 4 == 0)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(50);
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, "crowded.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var result = (await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None)).Single();
            Assert.Equal(TableLoadStatus.Loaded, result.Status);
            Assert.True(result.Calls <= (1.2 * 50) + 20, $"{result.Calls} calls for 5,000 tickets");
            var state = JsonDocument.Parse((await sink.GetCheckpointAsync(TableCheckpoints.LoadStream(DeskStreams.Tickets), CancellationToken.None))!.State).RootElement;
            var partitions = JsonDocument.Parse(state.GetProperty("reader").GetString()!).RootElement.GetProperty("partitions").GetArrayLength();
            Assert.True(partitions > client.Options.MaxConcurrency, $"{partitions} partitions: none was split");
        }

        Assert.True(portal.Emulator.Limits.PeakInFlight <= client.Options.MaxConcurrency, $"peak {portal.Emulator.Limits.PeakInFlight} calls in flight");
        await VerifyFlatAsync(path, portal, [DeskStreams.Tickets]);
    }
}
