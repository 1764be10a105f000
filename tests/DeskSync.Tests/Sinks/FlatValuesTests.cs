using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Sinks;

/// <summary>
/// What lands in each typed column of a flat table, value by value. SQLite binds most text
/// straight from Zoho's UTF-8 JSON and every other target converts values one by one; both must
/// store what is written here by hand.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class FlatValuesTests : IDisposable
{
    private static readonly TableSchema Schema = new("tickets",
    [
        new ColumnSchema("id", ColumnType.Text, ["id"]),
        new ColumnSchema("subject", ColumnType.Text, ["subject"]),
        new ColumnSchema("thread_count", ColumnType.Integer, ["threadCount"]),
        new ColumnSchema("amount", ColumnType.Decimal, ["amount"]),
        new ColumnSchema("is_spam", ColumnType.Boolean, ["isSpam"]),
        new ColumnSchema("created_time", ColumnType.Timestamp, ["createdTime"]),
        new ColumnSchema("due_date", ColumnType.Date, ["dueDate"]),
        new ColumnSchema("contact", ColumnType.Json, ["contact"]),
        new ColumnSchema("contact_email", ColumnType.Text, ["contact", "email"]),
        new ColumnSchema("contact_account_name", ColumnType.Text, ["contact", "account", "accountName"]),
        new ColumnSchema("cf_region", ColumnType.Text, ["cf", "cf_region"], IsCustomField: true),
        new ColumnSchema("cf_score", ColumnType.Integer, ["cf", "cf_score"], IsCustomField: true),
    ]);

    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-flat-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Record JSON, then the expected column values (null = SQL NULL); doubles for NUMERIC.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "plain", """{"id":"1","subject":"Printer down","threadCount":"3","amount":"12.50","isSpam":false,"createdTime":"2026-03-04T05:06:07.089Z","dueDate":"2026-03-05","contact":{"email":"a@b.example","account":{"accountName":"Acme"}},"cf":{"cf_region":"EU","cf_score":"7"}}""" },
        { "escapes and unicode", """{"id":"2","subject":"Say \"hi\"\n\u00e9t\u00e9 \ud83d\ude00 \u4e2d","cf":{"cf_region":"caf\u00e9"}}""" },
        { "raw unicode", """{"id":"3","subject":"Größe – 日本 😀","cf":{"cf_region":"Ünïcödé"}}""" },
        { "numbers and objects in text columns", """{"id":"4","subject":12.50,"cf":{"cf_region":{"a":[1,2]}}}""" },
        { "timestamps in other forms", """{"id":"5","createdTime":"2026-03-04T05:06:07Z","dueDate":"2026-03-05T23:30:00.000Z"}""" },
        { "epoch milliseconds", """{"id":"6","createdTime":1767225600000}""" },
        { "epoch milliseconds as text", """{"id":"7","createdTime":"1767225600000"}""" },
        { "impossible dates", """{"id":"8","createdTime":"2026-02-30T00:00:00.000Z","dueDate":"2026-13-01"}""" },
        { "hour 24", """{"id":"9","createdTime":"2026-01-01T24:00:00.000Z"}""" },
        { "leap day", """{"id":"10","createdTime":"2024-02-29T23:59:59.999Z"}""" },
        { "values that do not fit", """{"id":"11","threadCount":"1.5","amount":"lots","isSpam":"yes","cf":{"cf_score":"x"}}""" },
        { "numbers as numbers", """{"id":"12","threadCount":4,"amount":0.1,"isSpam":"True","cf":{"cf_score":12}}""" },
        { "nulls", """{"id":"13","subject":null,"threadCount":null,"contact":null,"cf":null}""" },
        { "escaped property names", """{"id":"14","sub\u006aect":"escaped name","c\u0066":{"cf_\u0072egion":"nested escaped"}}""" },
        { "duplicate names: the first counts", """{"id":"15","subject":"first","subject":"second","cf":{"cf_region":"one"},"cf":{"cf_region":"two"}}""" },
        { "a text column given an array", """{"id":"16","subject":["a","b"],"contact":[1]}""" },
        { "numbers in other forms", """{"id":"17","threadCount":"007","amount":"-0.30","cf":{"cf_score":"1e3"}}""" },
        { "big and negative numbers", """{"id":"18","threadCount":"-123456789012345","amount":"123456789012345.123456789012345","cf":{"cf_score":"9223372036854775807"}}""" },
        { "whole numbers with a fraction", """{"id":"19","threadCount":"2.000","amount":"100","isSpam":true,"cf":{"cf_score":-0}}""" },
    };

    private static readonly Dictionary<string, object?[]> Expected = new()
    {
        // subject, thread_count, amount, is_spam, created_time, due_date, contact, contact_email, contact_account_name, cf_region, cf_score
        ["1"] = ["Printer down", 3L, 12.5, 0L, "2026-03-04T05:06:07.089Z", "2026-03-05", """{"email":"a@b.example","account":{"accountName":"Acme"}}""", "a@b.example", "Acme", "EU", 7L],
        ["2"] = ["Say \"hi\"\nété 😀 中", null, null, null, null, null, null, null, null, "café", null],
        ["3"] = ["Größe – 日本 😀", null, null, null, null, null, null, null, null, "Ünïcödé", null],
        ["4"] = ["12.50", null, null, null, null, null, null, null, null, """{"a":[1,2]}""", null],
        ["5"] = [null, null, null, null, "2026-03-04T05:06:07.000Z", "2026-03-05", null, null, null, null, null],
        ["6"] = [null, null, null, null, "2026-01-01T00:00:00.000Z", null, null, null, null, null, null],
        ["7"] = [null, null, null, null, "2026-01-01T00:00:00.000Z", null, null, null, null, null, null],
        ["8"] = [null, null, null, null, null, null, null, null, null, null, null],
        ["9"] = [null, null, null, null, null, null, null, null, null, null, null],
        ["10"] = [null, null, null, null, "2024-02-29T23:59:59.999Z", null, null, null, null, null, null],
        ["11"] = [null, null, null, null, null, null, null, null, null, null, null],
        ["12"] = [null, 4L, 0.1, 1L, null, null, null, null, null, null, 12L],
        ["13"] = [null, null, null, null, null, null, null, null, null, null, null],
        ["14"] = ["escaped name", null, null, null, null, null, null, null, null, "nested escaped", null],
        ["15"] = ["first", null, null, null, null, null, null, null, null, "one", null],
        ["16"] = ["""["a","b"]""", null, null, null, null, null, "[1]", null, null, null, null],
        ["17"] = [null, 7L, -0.3, null, null, null, null, null, null, null, 1000L],
        ["18"] = [null, -123456789012345L, 123456789012345.123456789012345, null, null, null, null, null, null, null, 9223372036854775807L],
        ["19"] = [null, 2L, 100L, 1L, null, null, null, null, null, null, 0L],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Sqlite_stores_each_value_as_its_column_type_says(string name, string json)
    {
        _ = name;
        var path = Path.Combine(_dir, "t.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await sink.ApplyAsync(Schema, [Event(json)], null, default);
        }

        var id = JsonDocument.Parse(json).RootElement.GetProperty("id").ToString();
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT subject, thread_count, amount, is_spam, created_time, due_date, contact, contact_email, contact_account_name, cf_region, cf_score, _raw FROM tickets WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var expected = Expected[id];
        for (var i = 0; i < expected.Length; i++)
        {
            var actual = reader.IsDBNull(i) ? null : reader.GetValue(i);
            Assert.True(Equals(expected[i], actual), $"{reader.GetName(i)}: expected {expected[i] ?? "NULL"} ({expected[i]?.GetType().Name}), stored {actual ?? "NULL"} ({actual?.GetType().Name})");
        }

        // _raw is the record exactly as Zoho sent it, byte for byte.
        Assert.Equal(json, reader.GetString(expected.Length));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_other_target_converts_to_the_same_values(string name, string json)
    {
        _ = name;
        var layout = TableLayout.For(Schema, SinkMode.Flat);
        var e = Event(json);
        var values = layout.Values(e, DateTimeOffset.UnixEpoch);
        var byName = layout.Columns.Select((c, i) => (c.Name, Value: values[i])).ToDictionary(p => p.Name, p => p.Value);
        var expected = Expected[e.Key];
        string[] names = ["subject", "thread_count", "amount", "is_spam", "created_time", "due_date", "contact", "contact_email", "contact_account_name", "cf_region", "cf_score"];
        for (var i = 0; i < names.Length; i++)
        {
            // The targets' own forms: times as ISO text, booleans as 0/1, decimals as numbers, dates as text.
            var actual = byName[names[i]] switch
            {
                DateTimeOffset t => ValueConverter.Iso(t),
                DateOnly d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                bool b => b ? 1L : 0L,
                decimal d => d == decimal.Truncate(d) ? (object)(long)d : (double)d, // as NUMERIC affinity stores it
                var v => v,
            };
            Assert.True(Equals(expected[i], actual), $"{names[i]}: expected {expected[i] ?? "NULL"}, converted {actual ?? "NULL"}");
        }

        Assert.Equal(json, byName["_raw"]);
        Assert.Equal(DateTimeOffset.UnixEpoch, byName[TableLayout.SyncedAt]);
        Assert.Null(byName[TableLayout.DeletedAt]);
    }

    private static ChangeEvent Event(string json)
    {
        var record = JsonDocument.Parse(json).RootElement.Clone();
        return new ChangeEvent(ChangeOp.Read, "tickets", record.GetProperty("id").ToString(), record, null, "test");
    }
}
