using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Sinks;

/// <summary>A delete of a parent's children (<see cref="ParentScope"/>): those kept and those written since the listing began stay, in every target and mode; a change log records it as one line.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ChildDeleteTests(PostgresServer postgres) : IDisposable, IClassFixture<PostgresServer>
{
    private static readonly ColumnSchema Parent = new("ticket_id", ColumnType.Text, ["ticketId"]);

    private static readonly TableSchema Threads = new("ticket_threads",
    [
        Parent,
        new ColumnSchema("id", ColumnType.Text, ["id"]),
        new ColumnSchema("summary", ColumnType.Text, ["summary"]),
    ])
    { ParentColumn = Parent };

    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-child-delete-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("sqlite", SinkMode.Flat)]
    [InlineData("sqlite", SinkMode.Document)]
    [InlineData("postgres", SinkMode.Flat)]
    [InlineData("postgres", SinkMode.Document)]
    public async Task Only_the_parents_unlisted_children_written_before_the_listing_go(string target, SinkMode mode)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using ISink sink = target == "sqlite"
            ? new SqliteSink(Path.Combine(_dir, $"{mode}.db"), mode, clock)
            : new PostgresSink(postgres.ConnectionString, mode, PostgresServer.NewSchema(), clock);
        await sink.InitializeAsync(default);
        await sink.ApplyAsync(Threads, [Row("A", "1"), Row("A", "2"), Row("A", "3"), Row("B", "4")], null, default);
        var listingBegan = clock.GetUtcNow().AddSeconds(1);
        clock.Advance(TimeSpan.FromSeconds(2));
        await sink.ApplyAsync(Threads, [Row("A", "5")], null, default); // a newer event's thread, which the listing did not see

        // A's listing found thread 1 only.
        await sink.ApplyAsync(Threads, [new ChangeEvent(ChangeOp.Delete, Threads.Name, "A", null, listingBegan, "test") { Scope = new ParentScope(["1"], listingBegan) }], null, default);
        Assert.Equal(["1", "5"], (await sink.ChildKeysAsync(Threads, "A", default))!.Order()); // 1 kept, 5 newer than the listing
        Assert.Equal(1, (await sink.ChildKeysAsync(Threads, "B", default))?.Count);

        // A's delete cascades: nothing kept.
        await sink.ApplyAsync(Threads, [new ChangeEvent(ChangeOp.Delete, Threads.Name, "A", null, clock.GetUtcNow(), "test") { Scope = ParentScope.All }], null, default);
        Assert.Equal(0, (await sink.ChildKeysAsync(Threads, "A", default))?.Count);
        Assert.Equal(1, (await sink.ChildKeysAsync(Threads, "B", default))?.Count);

        // A deleted thread stays deleted when an older listing brings it again.
        var deletedAt = clock.GetUtcNow();
        await sink.ApplyAsync(Threads, [Row("A", "2")], null, default);
        await sink.ApplyAsync(Threads, [Row("A", "2") with { ListedAt = deletedAt.AddSeconds(-1) }], null, default);
        Assert.Equal(0, (await sink.ChildKeysAsync(Threads, "A", default))?.Count);

        // A restored from the recycle bin: a listing begun after the delete brings its children back, unchanged as they are.
        await sink.ApplyAsync(Threads, [Row("A", "1") with { ListedAt = deletedAt.AddSeconds(1) }, Row("A", "2") with { ListedAt = deletedAt.AddSeconds(1) }], null, default);
        Assert.Equal(["1", "2"], (await sink.ChildKeysAsync(Threads, "A", default))!.Order());
    }

    [Fact]
    public async Task A_change_log_records_the_delete_of_a_parents_children_as_one_line()
    {
        await using (var sink = new FileSink(_dir, FileFormat.Jsonl, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await sink.ApplyAsync(Threads, [Row("A", "1"), new ChangeEvent(ChangeOp.Delete, Threads.Name, "A", null, null, "test") { Scope = new ParentScope(["1"]) }], null, default);
            Assert.Null(await sink.ChildKeysAsync(Threads, "A", default));
        }

        var lines = File.ReadAllLines(Path.Combine(_dir, "ticket_threads.jsonl"));
        using var last = JsonDocument.Parse(lines[^1]);
        Assert.Equal("dc", last.RootElement.GetProperty("op").GetString());
        Assert.Equal("A", last.RootElement.GetProperty("parent").GetString());
        Assert.Equal(["1"], last.RootElement.GetProperty("keep").EnumerateArray().Select(k => k.GetString()));
    }

    private static ChangeEvent Row(string ticket, string id) =>
        new(ChangeOp.Read, Threads.Name, id, JsonSerializer.SerializeToElement(new { ticketId = ticket, id, summary = "hello " + id }), null, "test");
}
