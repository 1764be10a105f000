using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Emulator.Desk;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Emulator;

/// <summary>The compact store (records kept as JSON text, for million-ticket benchmarks) is the same portal as the default one.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class CompactStoreTests : IDisposable
{
    private static readonly DateTimeOffset Anchor = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-compact-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_compact_portal_holds_the_same_records_through_creates_updates_and_deletes()
    {
        Portal Make(bool compact) => new(new EmulatorOptions
        {
            Counts = TestPortal.Small with { Tickets = 300 },
            DataAnchor = Anchor,
            Time = new FakeTimeProvider(Anchor.AddHours(9)),
            CompactStore = compact,
        });

        var plain = Make(false);
        var compact = Make(true);
        foreach (var portal in new[] { plain, compact })
        {
            var tickets = portal.List("tickets");
            portal.Update("tickets", tickets[10]["id"]!.GetValue<string>(), new JsonObject { ["subject"] = "changed", ["cf"] = new JsonObject { ["cf_customer_refund_if_any"] = "yes" } });
            Assert.True(portal.Delete("tickets", tickets[20]["id"]!.GetValue<string>()));
            portal.Create("tickets", new JsonObject { ["subject"] = "new one" });
            portal.List("tickets")[0]["subject"] = "a reader's change to its copy"; // must not reach the store of a compact portal
        }

        Assert.Equal(plain.Count("tickets"), compact.Count("tickets"));
        var changed = plain.List("tickets")[10]["id"]!.GetValue<string>();
        Assert.Equal("changed", compact.Get("tickets", changed)!["subject"]!.GetValue<string>());
        Assert.NotEqual("a reader's change to its copy", compact.List("tickets")[0]["subject"]!.GetValue<string>());
        Assert.Equal(
            plain.List("tickets").Skip(1).Select(t => t.ToJsonString()),
            compact.List("tickets").Skip(1).Select(t => t.ToJsonString()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Newest_first_search_pages_are_those_of_a_stable_sort_ties_included(bool compact)
    {
        var time = new FakeTimeProvider(Anchor.AddHours(9));
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 250 }, DataAnchor = Anchor, Time = time, CompactStore = compact });
        for (var i = 0; i < 7; i++)
        {
            portal.Emulator.Portal.Create("tickets", new JsonObject { ["subject"] = $"tie {i}" }); // seven tickets of one millisecond
        }

        var client = await portal.ConnectAsync();
        var expected = portal.Emulator.Portal.List("tickets").OrderByDescending(t => t["createdTime"]!.GetValue<string>(), StringComparer.Ordinal).Select(t => t["id"]!.GetValue<string>()).ToList();
        var got = new List<string>();
        for (var from = 0; from < 40; from += 10)
        {
            using var page = await client.GetAsync("tickets/search", [new("createdTimeRange", "2020-01-01T00:00:00.000Z,2030-01-01T00:00:00.000Z"), new("sortBy", "-createdTime"), new("from", $"{from}"), new("limit", "10")], "test", cancellationToken: CancellationToken.None);
            got.AddRange(page!.RootElement.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("id").ToString()));
        }

        Assert.Equal(expected.Take(40), got);
    }

    [Fact]
    public async Task A_full_load_from_a_compact_emulator_equals_it()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 1_500 }, CompactStore = true });
        var path = Path.Combine(_dir, "compact.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var results = await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions()).RunAsync(DeskStreams.All, null, CancellationToken.None);
            Assert.All(results, r => Assert.NotEqual(TableLoadStatus.Failed, r.Status));
        }

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, DeskStreams.All);
    }
}
