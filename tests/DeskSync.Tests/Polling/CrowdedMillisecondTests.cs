using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Polling;

/// <summary>
/// A bulk import or update puts more records in one millisecond than Zoho's search offsets reach
/// (1,000): the load and the poll drill through it by the other time field, against the emulator.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class CrowdedMillisecondTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-crowded-").FullName;

    private string Db => Path.Combine(_dir, "crowded.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Tickets_imported_and_then_updated_a_thousand_and_more_to_a_millisecond_all_arrive_by_load_and_by_poll()
    {
        // The emulator's clock stands still while 1,300 tickets are created (one createdTime; each is
        // then touched a millisecond apart, as an import's second pass would), then moves a minute
        // and stands still while 1,200 are updated (one modifiedTime).
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 300 }, Time = clock });
        var desk = portal.Emulator.Portal;
        clock.Advance(TimeSpan.FromMinutes(1));
        var imported = Enumerable.Range(0, 1_300).Select(i => desk.Create("tickets", new JsonObject { ["subject"] = $"imported {i}" })["id"]!.GetValue<string>()).ToList();
        foreach (var id in imported)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            desk.Update("tickets", id, new JsonObject { ["status"] = "Open" });
        }

        clock.Advance(TimeSpan.FromMinutes(1));
        var client = await portal.ConnectAsync();
        await using var sink = new SqliteSink(Db, SinkMode.Flat);

        var loaded = (await new FullLoad(client, sink, new SnapshotOptions(), clock).RunAsync([DeskStreams.Tickets], null, default)).Single();

        Assert.True(loaded.Status == TableLoadStatus.Loaded, loaded.Message);
        Assert.Equal(1_600, await CountAsync("SELECT COUNT(*) FROM tickets"));
        Assert.Equal(1_300, await CountAsync("SELECT COUNT(*) FROM tickets WHERE subject LIKE 'imported %'"));

        clock.Advance(TimeSpan.FromMinutes(1));
        foreach (var id in desk.List("tickets").Select(t => t["id"]!.GetValue<string>()).Where((_, i) => i % 4 != 0).Take(1_200).ToList())
        {
            desk.Update("tickets", id, new JsonObject { ["subject"] = "bulk edit" });
        }

        Assert.Equal(1_200, desk.List("tickets").Select(t => t["modifiedTime"]!.GetValue<string>()).GroupBy(t => t).Max(g => g.Count()));
        clock.Advance(TimeSpan.FromMinutes(1));
        var polled = (await new Poller(client, sink, time: clock).PollOnceAsync([DeskStreams.Tickets], null, default)).Single(r => r.Table == DeskStreams.Tickets);

        Assert.Null(polled.Message);
        Assert.Equal(1_200, await CountAsync("SELECT COUNT(*) FROM tickets WHERE subject = 'bulk edit'"));
        await using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, [DeskStreams.Tickets]);
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
