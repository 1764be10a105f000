using System.Data.Common;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Sinks;

/// <summary>Order, deletes and thin payloads, the same in SQLite and PostgreSQL, in both modes,
/// and in flat tables without _raw (targets "sqlite-noraw", "postgres-noraw"), whose rows are their columns only.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ApplySemanticsTests(PostgresServer postgres) : IDisposable, IClassFixture<PostgresServer>
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
        { "sqlite-noraw", SinkMode.Flat }, { "postgres-noraw", SinkMode.Flat },
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
            Assert.Equal("2026-01-01T00:00:20.000Z", row.GetProperty("modifiedTime").GetString());
            if (!target.EndsWith("-noraw", StringComparison.Ordinal))
            {
                // cf_other has no column: only a record column keeps it.
                Assert.Equal("y", row.GetProperty("cf").GetProperty("cf_other").GetString());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task A_thin_payload_merges_into_a_record_that_names_a_field_twice(string target, SinkMode mode)
    {
        // Zoho never sends a name twice, but a stored record that has one must not stop the
        // updates that follow. The first occurrence counts, as in the columns; PostgreSQL's jsonb
        // keeps the last one in the record column itself.
        var (sink, read) = await OpenAsync(target, mode);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"Printer","status":"Open","status":"Closed","modifiedTime":"2026-01-01T00:00:10.000Z","cf":{"cf_region":"North","cf_region":"South"}}""")], null, default);
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 20, """{"id":"1","subject":"Scanner","subject":"Fax","modifiedTime":"2026-01-01T00:00:20.000Z","cf":{"cf_other":"y"}}""") with { IsPartial = true }], null, default);

            var row = (await read("1"))!.Value;
            Assert.Equal("Scanner", row.GetProperty("subject").GetString());
            Assert.Equal("2026-01-01T00:00:20.000Z", row.GetProperty("modifiedTime").GetString());
            var jsonb = target.StartsWith("postgres", StringComparison.Ordinal) && !target.EndsWith("-noraw", StringComparison.Ordinal);
            Assert.Equal(jsonb ? "Closed" : "Open", row.GetProperty("status").GetString());
            Assert.Equal(jsonb ? "South" : "North", row.GetProperty("cf").GetProperty("cf_region").GetString());
        }
    }

    [Theory]
    [InlineData("sqlite-noraw")]
    [InlineData("postgres-noraw")]
    public async Task A_thin_payload_into_a_table_without_raw_sets_only_the_columns_it_carries_and_an_older_one_none(string target)
    {
        var (sink, read) = await OpenAsync(target, SinkMode.Flat);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"Printer","status":"Open","modifiedTime":"2026-01-01T00:00:10.000Z","cf":{"cf_region":"North"}}""")], null, default);
            // A JSON null is carried (the field was cleared); a missing field is not.
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 20, """{"id":"1","subject":null,"cf":{"cf_region":"South"}}""") with { IsPartial = true }], null, default);
            var row = (await read("1"))!.Value;
            Assert.Equal(JsonValueKind.Null, row.GetProperty("subject").ValueKind);
            Assert.Equal("Open", row.GetProperty("status").GetString());
            Assert.Equal("South", row.GetProperty("cf").GetProperty("cf_region").GetString());
            Assert.Equal("2026-01-01T00:00:10.000Z", row.GetProperty("modifiedTime").GetString());

            // Older than the stored row: nothing of it is taken.
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 5, """{"id":"1","status":"Stale","modifiedTime":"2026-01-01T00:00:05.000Z"}""") with { IsPartial = true }], null, default);
            Assert.Equal("Open", (await read("1"))!.Value.GetProperty("status").GetString());

            // A thin payload for a row not stored yet makes the row from what it carries.
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Update, "2", 20, """{"id":"2","status":"New"}""") with { IsPartial = true }], null, default);
            Assert.Equal("New", (await read("2"))!.Value.GetProperty("status").GetString());
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Without_raw_a_new_table_has_no_raw_column_but_one_that_has_it_keeps_it(string target)
    {
        var (sink, _) = await OpenAsync(target + "-noraw", SinkMode.Flat);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"a","modifiedTime":"2026-01-01T00:00:10.000Z"}""")], null, default);
        }

        Assert.DoesNotContain("_raw", await ColumnsAsync(target, sink));

        // A table made with _raw keeps being given it when a later sync turns it off (no stale copies).
        var (withRaw, read) = await OpenAsync(target, SinkMode.Flat);
        await using (withRaw)
        {
            await withRaw.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"a","modifiedTime":"2026-01-01T00:00:10.000Z"}""")], null, default);
        }

        var again = Reopen(target, withRaw, raw: false);
        await using (again)
        {
            await again.InitializeAsync(default);
            await again.EnsureTableAsync(Schema, default);
            await again.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 20, """{"id":"1","subject":"b","modifiedTime":"2026-01-01T00:00:20.000Z"}""")], null, default);
        }

        Assert.Equal("b", (await read("1"))!.Value.GetProperty("subject").GetString());
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
    public async Task A_delete_written_by_another_process_after_this_one_opened_the_table_still_holds()
    {
        // Two processes on one target, one after the other (a lease handed over): the second opened
        // the table before the first wrote its first delete into it.
        var path = Path.Combine(_dir, "two-writers.db");
        await using var first = new SqliteSink(path, SinkMode.Flat);
        await using var second = new SqliteSink(path, SinkMode.Flat);
        foreach (var sink in new[] { first, second })
        {
            await sink.InitializeAsync(default);
            await sink.EnsureTableAsync(Schema, default);
        }

        await first.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, """{"id":"1","subject":"a","modifiedTime":"2026-01-01T00:00:10.000Z"}""")], null, default);
        await first.ApplyAsync(Schema, [Event(ChangeOp.Delete, "1", 30, null)], null, default);
        await second.ApplyAsync(Schema, [Event(ChangeOp.Update, "1", 20, """{"id":"1","subject":"late","modifiedTime":"2026-01-01T00:00:20.000Z"}""")], null, default);

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM tickets";
        Assert.Equal(0L, await count.ExecuteScalarAsync());
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

    [Theory]
    [InlineData(SinkMode.Flat)]
    [InlineData(SinkMode.Document)]
    public async Task PostgreSQL_stores_whole_records_compressed_with_lz4_by_both_write_paths(SinkMode mode)
    {
        // A record over 2 KB is compressed by the server; the column's method decides how. One row
        // goes through a batch of INSERTs, forty through COPY into a staging table, which must carry
        // the column's method over (a compressed value is copied into the table as it is).
        var (sink, _) = await OpenAsync("postgres", mode);
        var schema = ((PostgresSink)sink).SchemaName;
        var notes = string.Join(" ", Enumerable.Range(0, 400).Select(i => $"note{i}"));
        string Json(int id) => "{\"id\":\"" + id + "\",\"subject\":\"s" + id + "\",\"status\":\"Open\",\"modifiedTime\":\"2026-01-01T00:00:10.000Z\",\"description\":\"" + notes + "\"}";
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [Event(ChangeOp.Read, "1", 10, Json(1))], null, default);
            await sink.ApplyAsync(Schema, [.. Enumerable.Range(2, 40).Select(i => Event(ChangeOp.Read, $"{i}", 10, Json(i)))], null, default);
        }

        await using var connection = await postgres.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'";
        var serverHasLz4 = await command.ExecuteScalarAsync() is true;
        var column = mode == SinkMode.Flat ? "_raw" : "record";
        command.CommandText = $"SELECT pg_column_compression({column}), count(*) FROM \"{schema}\".tickets GROUP BY 1";
        var methods = new Dictionary<string, long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                methods[reader.IsDBNull(0) ? "none" : reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        // Debian's and the official PostgreSQL builds have LZ4; one without keeps the server's default.
        Assert.Equal(new Dictionary<string, long> { [serverHasLz4 ? "lz4" : "pglz"] = 41 }, methods);
    }

    [Theory]
    [InlineData(SinkMode.Flat)]
    [InlineData(SinkMode.Document)]
    public async Task PostgreSQL_COPY_stores_a_record_holding_an_escaped_NUL_without_it(SinkMode mode)
    {
        // COPY sends a record as the UTF-8 Zoho sent; JSONB refuses \u0000, so such a record goes
        // through the string path, which drops it, instead of failing the whole batch.
        static string Json(int id, string subject) => "{\"id\":\"" + id + "\",\"subject\":\"" + subject + "\",\"status\":\"Open\",\"modifiedTime\":\"2026-01-01T00:00:10.000Z\"}";
        var (sink, read) = await OpenAsync("postgres", mode);
        await using (sink)
        {
            await sink.ApplyAsync(Schema, [.. Enumerable.Range(1, 20).Select(i => Event(ChangeOp.Read, $"{i}", 10, Json(i, i == 7 ? "a\\u0000b" : $"s{i}")))], null, default);

            for (var i = 1; i <= 20; i++)
            {
                Assert.Equal(i == 7 ? "ab" : $"s{i}", (await read($"{i}"))!.Value.GetProperty("subject").GetString());
            }
        }
    }

    private static ChangeEvent Event(ChangeOp op, string id, int second, string? json) =>
        new(op, "tickets", id, json is null ? null : JsonDocument.Parse(json).RootElement.Clone(), new DateTimeOffset(2026, 1, 1, 0, 0, second, TimeSpan.Zero), "test");

    /// <summary>
    /// A sink and a reader of a row's whole record (null when the row is gone). A flat table
    /// without _raw has no record: the reader makes one from its columns (cf_region under cf).
    /// </summary>
    private async Task<(ISink Sink, Func<string, Task<JsonElement?>> Read)> OpenAsync(string target, SinkMode mode)
    {
        var raw = !target.EndsWith("-noraw", StringComparison.Ordinal);
        ISink sink;
        Func<Task<DbConnection>> open;
        string table;
        if (target.StartsWith("sqlite", StringComparison.Ordinal))
        {
            var path = Path.Combine(_dir, $"{mode}{(raw ? "" : "-noraw")}.db");
            sink = new SqliteSink(path, mode) { RawColumn = raw };
            open = async () => { var c = new SqliteConnection($"Data Source={path};Pooling=False"); await c.OpenAsync(); return c; };
            table = "\"tickets\"";
        }
        else
        {
            var schema = PostgresServer.NewSchema();
            sink = new PostgresSink(postgres.ConnectionString, mode, schema) { RawColumn = raw };
            open = async () => await postgres.OpenAsync();
            table = $"\"{schema}\".\"tickets\"";
        }

        await sink.InitializeAsync(default);
        await sink.EnsureTableAsync(Schema, default);
        var column = mode == SinkMode.Flat ? "_raw" : "record";
        var text = target.StartsWith("sqlite", StringComparison.Ordinal) ? "" : "::text";
        return (sink, async id =>
        {
            await using var connection = await open();
            await using var command = connection.CreateCommand();
            if (!raw)
            {
                command.CommandText = $"SELECT subject, status, modified_time, cf_region FROM {table} WHERE id = '{id}'";
                await using var reader = await command.ExecuteReaderAsync();
                if (!await reader.ReadAsync())
                {
                    return null;
                }

                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetValue(i) is var v && v is DateTime t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture) : reader.GetValue(i).ToString();
                return JsonSerializer.SerializeToElement(new Dictionary<string, object?>
                {
                    ["subject"] = Text(0), ["status"] = Text(1), ["modifiedTime"] = Text(2), ["cf"] = new Dictionary<string, string?> { ["cf_region"] = Text(3) },
                });
            }

            command.CommandText = $"SELECT {column}{text} FROM {table} WHERE id = '{id}'";
            var value = await command.ExecuteScalarAsync();
            return value is string s ? JsonDocument.Parse(s).RootElement.Clone() : null;
        });
    }

    /// <summary>The same target as <paramref name="sink"/> opened again, with or without _raw.</summary>
    private ISink Reopen(string target, ISink sink, bool raw) => sink switch
    {
        SqliteSink s => new SqliteSink(s.Path, s.Mode) { RawColumn = raw },
        PostgresSink p => new PostgresSink(postgres.ConnectionString, p.Mode, p.SchemaName) { RawColumn = raw },
        _ => throw new ArgumentException(target),
    };

    private async Task<List<string>> ColumnsAsync(string target, ISink sink)
    {
        if (sink is SqliteSink s)
        {
            await using var c = new SqliteConnection($"Data Source={s.Path};Pooling=False");
            await c.OpenAsync();
            return [.. (await TargetVerifier.ReadRowsAsync(c, "SELECT name AS id FROM pragma_table_info('tickets')")).Keys];
        }

        await using var connection = await postgres.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT column_name FROM information_schema.columns WHERE table_schema = '{((PostgresSink)sink).SchemaName}' AND table_name = 'tickets'";
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        Assert.NotEmpty(names);
        return names;
    }
}
