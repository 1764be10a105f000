using System.Data.Common;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sql;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Sinks;

/// <summary>Order, deletes and thin payloads, the same in SQLite and PostgreSQL, in both modes.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ApplySemanticsTests(PostgresServer postgres) : IDisposable
{
    private static readonly TableSchema Schema = new("tickets",
    [
        new ColumnSchema("id", ColumnType.Text, ["id"]),
        new ColumnSchema("subject", ColumnType.Text, ["subject"]),
        new ColumnSchema("status", ColumnType.Text, ["status"]),
        new ColumnSchema("modified_time", ColumnType.Timestamp, ["modifiedTime"]),
        new ColumnSchema("cf_region", ColumnType.Text, ["cf", "cf_region"], IsCustomField: true, Label: "Region"),
    ]);

    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-apply-").FullName;

    public static TheoryData<string, SinkMode> Targets => new()
    {
        { "sqlite", SinkMode.Flat }, { "sqlite", SinkMode.Document }, { "postgres", SinkMode.Flat }, { "postgres", SinkMode.Document },
    };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task An_older_version_never_overwrites_a_newer_one(string target, SinkMode mode)
    {
        var (sink, read) = await OpenAsync(target, mode);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 10, """{"id":"1","subject":"new","status":"Closed","modifiedTime":"2026-01-01T00:00:10.000Z"}""")], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 5, """{"id":"1","subject":"old","status":"Open","modifiedTime":"2026-01-01T00:00:05.000Z"}""")], null, default);

            Assert.Equal("new", (await read("1"))!.Value.GetProperty("subject").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Large_batches_keep_the_same_rules_newer_wins_and_tombstones_hold(string target, SinkMode mode)
    {
        // 40-row batches take PostgreSQL's COPY path; the rules must not change with it.
        static string Json(int id, string subject, int second) =>
            "{\"id\":\"" + id + "\",\"subject\":\"" + subject + "\",\"status\":\"Open\",\"modifiedTime\":\"2026-01-01T00:00:" + second.ToString("00", System.Globalization.CultureInfo.InvariantCulture)
            + ".000Z\",\"cf\":{\"cf_region\":\"R" + id + "\"}}";
        var (sink, read) = await OpenAsync(target, mode);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [.. Enumerable.Range(1, 40).Select(i => Event(ChangeOp.Read, $"{i}", 10, Json(i, "first", 10)))], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Delete, "40", 30, null)], null, default);
            // Odd ids: an older version (ignored); even ids: a newer one (taken); 40: older than its delete (stays deleted).
            await sink.ApplyAsync(Schema, [.. Enumerable.Range(1, 40).Select(i => i % 2 == 1
                ? Event(ChangeOp.Update, $"{i}", 5, Json(i, "older", 5))
                : Event(ChangeOp.Update, $"{i}", 20, Json(i, "newer", 20)))], null, default);

            for (var i = 1; i < 40; i++)
            {
                var row = (await read($"{i}"))!.Value;
                Assert.Equal(i % 2 == 1 ? "first" : "newer", row.GetProperty("subject").GetString());
                Assert.Equal($"R{i}", row.GetProperty("cf").GetProperty("cf_region").GetString());
            }

            Assert.Null(await read("40"));
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task A_thin_payload_keeps_the_fields_it_does_not_carry(string target, SinkMode mode)
    {
        var (sink, read) = await OpenAsync(target, mode);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"Printer","status":"Open","modifiedTime":"2026-01-01T00:00:10.000Z","cf":{"cf_region":"North","cf_other":"x"}}""")], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 20, """{"id":"1","status":"Closed","modifiedTime":"2026-01-01T00:00:20.000Z","cf":{"cf_other":"y"}}""") with { IsPartial = true }], null, default);

            var row = (await read("1"))!.Value;
            Assert.Equal("Printer", row.GetProperty("subject").GetString());
            Assert.Equal("Closed", row.GetProperty("status").GetString());
            Assert.Equal("North", row.GetProperty("cf").GetProperty("cf_region").GetString());
            Assert.Equal("y", row.GetProperty("cf").GetProperty("cf_other").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task A_delete_is_not_undone_by_a_late_older_update_but_a_restore_brings_the_row_back(string target, SinkMode mode)
    {
        var (sink, read) = await OpenAsync(target, mode);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"a","modifiedTime":"2026-01-01T00:00:10.000Z"}""")], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Delete, "1", 30, null)], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 20, """{"id":"1","subject":"late","modifiedTime":"2026-01-01T00:00:20.000Z"}""")], null, default);
            Assert.Null(await read("1"));

            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 40, """{"id":"1","subject":"restored","modifiedTime":"2026-01-01T00:00:40.000Z"}""")], null, default);
            Assert.Equal("restored", (await read("1"))!.Value.GetProperty("subject").GetString());
        }
    }

    [Fact]
    public async Task Soft_delete_keeps_the_row_and_marks_it()
    {
        var path = Path.Combine(_dir, "soft.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat) { DeleteMode = DeleteMode.Soft })
        {
            await sink.InitializeAsync(default);
            await sink.EnsureTableAsync(Schema, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"a","modifiedTime":"2026-01-01T00:00:10.000Z"}""")], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Delete, "1", 30, null)], null, default);
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, "SELECT id, subject, _deleted_at FROM tickets");
        Assert.Equal("a", rows["1"]["subject"]);
        Assert.Equal("2026-01-01T00:00:30.000Z", rows["1"]["_deleted_at"]);
    }

    private static ChangeEvent Event(ChangeOp op, string id, int second, string? json) =>
        new(op, "tickets", id, json is null ? null : JsonDocument.Parse(json).RootElement.Clone(), new DateTimeOffset(2026, 1, 1, 0, 0, second, TimeSpan.Zero), "test");

    /// <summary>A sink and a reader of a row's whole record (null when the row is gone).</summary>
    private async Task<(ISink Sink, Func<string, Task<JsonElement?>> Read)> OpenAsync(string target, SinkMode mode)
    {
        ISink sink;
        Func<Task<DbConnection>> open;
        string table;
        if (target == "sqlite")
        {
            var path = Path.Combine(_dir, $"{mode}.db");
            sink = new SqliteSink(path, mode);
            open = async () => { var c = new SqliteConnection($"Data Source={path};Pooling=False"); await c.OpenAsync(); return c; };
            table = "\"tickets\"";
        }
        else
        {
            var schema = PostgresServer.NewSchema();
            sink = new PostgresSink(postgres.ConnectionString, mode, schema);
            open = async () => await postgres.OpenAsync();
            table = $"\"{schema}\".\"tickets\"";
        }

        await sink.InitializeAsync(default);
        await sink.EnsureTableAsync(Schema, default);
        var column = mode == SinkMode.Flat ? "_raw" : "record";
        return (sink, async id =>
        {
            await using var connection = await open();
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {column}::text FROM {table} WHERE id = '{id}'".Replace("::text", target == "sqlite" ? "" : "::text", StringComparison.Ordinal);
            var value = await command.ExecuteScalarAsync();
            return value is string s ? JsonDocument.Parse(s).RootElement.Clone() : null;
        });
    }
}
