using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Emulator.Desk;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Support;

/// <summary>
/// Compares a target database with the emulator row for row: the same ids in every table, and
/// for every row the values of the declared columns (custom fields included) equal the
/// emulator's record, read from the emulator's own store — not from what the client received.
/// </summary>
internal static class TargetVerifier
{
    /// <summary>The operation a table is read from, and where its records sit in the answer: its search when
    /// Zoho has one, else its list — contracts one by one (their list is thin), teams under "teams".</summary>
    private static (string OperationId, string? Items) ReadOperation(string table) =>
        table == "organization_fields" ? ("getFields", "data")
        : EmulatedModules.Named(table) is not { } module ? throw new ArgumentException($"the emulator has no module {table}", nameof(table))
        : module.SearchOperation is { } search ? (search, "data")
        : table == "contracts" ? (module.RecordOperation, null)
        : (module.ListOperation, table == "teams" ? "teams" : "data");

    /// <summary>
    /// The emulator's records as the emulator answers them on the table's read path: its own store,
    /// cut by its own model of Zoho's answer shape (OpenAPI), never by anything of the client.
    /// </summary>
    /// <summary>The emulator's list below a ticket that a child table copies (the test's own mapping, not the client's).</summary>
    private static readonly Dictionary<string, string> ChildLists = new(StringComparer.Ordinal)
    {
        ["ticket_threads"] = "threads", ["ticket_comments"] = "comments", ["ticket_attachments"] = "attachments", ["ticket_time_entries"] = "timeEntries", ["ticket_tags"] = "tags",
    };

    /// <summary>A child table's rows as the emulator lists them below each live ticket, each with the ticket's id.</summary>
    private static List<JsonObject> ExpectedChildren(ZohoDeskEmulator emulator, string kind)
    {
        var catalog = DeskSync.Emulator.OpenApi.OpenApiCatalog.Instance;
        var shaper = new DeskSync.Emulator.OpenApi.SchemaShaper(catalog, emulator.Options.AnswerSpread);
        var emulated = EmulatedChildren.Named(kind)!;
        var schema = catalog.Get(emulated.ListOperation).ResponseSchema(catalog, "200", out var file)!;
        var threadSchema = catalog.Get("getThread").ResponseSchema(catalog, "200", out var threadFile)!;
        var result = new List<JsonObject>();
        foreach (var ticket in emulator.Portal.List("tickets"))
        {
            var ticketId = ticket["id"]!.GetValue<string>();
            foreach (var child in emulator.Portal.Children(kind, ticketId) ?? [])
            {
                var shaped = shaper.Shape(new JsonObject { [emulated.ItemsKey] = new JsonArray(child.DeepClone()) }, schema, file)![emulated.ItemsKey]![0]!.AsObject();
                shaped["ticketId"] = ticketId;
                if (kind == "tags")
                {
                    // A tag is on many tickets: the row is the ticket's tag.
                    shaped["tagId"] = shaped["id"]!.DeepClone();
                    shaped["id"] = $"{ticketId}:{shaped["id"]}";
                }

                if (kind == "threads")
                {
                    // Its content, as the thread's own answer gives it.
                    shaped["content"] = shaper.Shape(child.DeepClone(), threadSchema, threadFile)!["content"]?.DeepClone();
                }

                result.Add(shaped);
            }
        }

        return result;
    }

    public static IReadOnlyList<JsonObject> Expected(ZohoDeskEmulator emulator, DeskStream table)
    {
        if (ChildLists.TryGetValue(table.Name, out var kind))
        {
            return ExpectedChildren(emulator, kind);
        }

        if (table.Name == "tags")
        {
            // Each department's catalogue: a department's tag is "department:tag".
            return [.. emulator.Portal.List("departments").SelectMany(d => (emulator.Portal.TagCatalogue(d["id"]!.GetValue<string>()) ?? []).Select(t => new JsonObject
            {
                ["departmentId"] = d["id"]!.DeepClone(), ["id"] = $"{d["id"]}:{t["id"]}", ["tagId"] = t["id"]!.DeepClone(), ["name"] = t["name"]!.DeepClone(), ["tagType"] = t["tagType"]!.DeepClone(),
            }))];
        }

        IEnumerable<JsonObject> records = table.Name == "organization_fields"
            ? DeskStreams.FieldModules.SelectMany(m => emulator.Portal.Fields(m))
            : emulator.Portal.List(table.Name);
        var catalog = DeskSync.Emulator.OpenApi.OpenApiCatalog.Instance;
        var shaper = new DeskSync.Emulator.OpenApi.SchemaShaper(catalog, emulator.Options.AnswerSpread);
        var (operationId, items) = ReadOperation(table.Name);
        var schema = catalog.Get(operationId).ResponseSchema(catalog, "200", out var file)!;
        var result = new List<JsonObject>();
        foreach (var (record, module) in table.Name == "organization_fields"
            ? DeskStreams.FieldModules.SelectMany(m => emulator.Portal.Fields(m).Select(f => (f, (string?)m)))
            : records.Select(r => (r, (string?)null)))
        {
            var shaped = items is null
                ? shaper.Shape(record, schema, file)!.AsObject()
                : shaper.Shape(new JsonObject { [items] = new JsonArray(record.DeepClone()) }, schema, file)![items]![0]!.AsObject();
            if (module is not null)
            {
                shaped["module"] = module;
            }

            result.Add(shaped);
        }

        return result;
    }

    public static async Task VerifyAsync(DbConnection connection, ZohoDeskEmulator emulator, SinkMode mode, IEnumerable<DeskStream> tables, string qualify = "")
    {
        foreach (var table in tables)
        {
            if (table.Name == "ticket_history")
            {
                await HistoryVerifier.VerifyAsync(connection, emulator, mode, qualify);
                continue;
            }

            var expected = Expected(emulator, table).ToDictionary(r => r["id"]!.ToString(), StringComparer.Ordinal);
            var rows = await ReadRowsAsync(connection, $"SELECT * FROM {qualify}\"{table.Name}\"");
            Assert.True(expected.Count == rows.Count, $"{table.Name}: {rows.Count} rows in the target, {expected.Count} in the emulator"
                + $" (missing: {string.Join(", ", expected.Keys.Except(rows.Keys).Take(5).Select(k => $"{k} {expected[k].ToJsonString()}"))}; extra: {string.Join(", ", rows.Keys.Except(expected.Keys).Take(5))})");
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));

            var schema = FullLoad.SchemaOf(table, DeskStreams.FieldModules.ToDictionary(m => m, m => (IReadOnlyList<JsonElement>)[.. emulator.Portal.Fields(m).Select(f => JsonSerializer.SerializeToElement(f))]));
            foreach (var (id, row) in rows)
            {
                var record = JsonSerializer.SerializeToElement(expected[id]);
                if (mode == SinkMode.Document)
                {
                    using var stored = JsonDocument.Parse(Text(row["record"])!);
                    foreach (var column in schema.Columns)
                    {
                        AssertSame(table.Name, id, column.SourcePath, Source(record, column), Source(stored.RootElement, column), column.Type);
                    }

                    if (table.Name != "organization_fields" && record.TryGetProperty("modifiedTime", out var m) && m.ValueKind == JsonValueKind.String)
                    {
                        Assert.Equal(ValueConverter.ToTimestamp(m), Timestamp(row["modified_time"]));
                    }
                }
                else
                {
                    foreach (var column in schema.Columns)
                    {
                        var expectedValue = ValueConverter.TryGet(record, column.Source, out var v) ? ValueConverter.Convert(v, column.Type) : null;
                        AssertColumn(table.Name, id, column, expectedValue, row.GetValueOrDefault(column.Name));
                    }
                }
            }
        }
    }

    public static async Task<Dictionary<string, Dictionary<string, object?>>> ReadRowsAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows[(string)row["id"]!] = row;
        }

        return rows;
    }

    private static JsonElement? Source(JsonElement record, ColumnSchema column) =>
        ValueConverter.TryGet(record, column.Source, out var v) ? v : null;

    private static void AssertSame(string table, string id, string path, JsonElement? expected, JsonElement? actual, ColumnType type)
    {
        if (type == ColumnType.Json && expected is { } je && actual is { } ja)
        {
            Assert.True(Agrees(JsonNode.Parse(je.GetRawText()), JsonNode.Parse(ja.GetRawText())), $"{table} {id} {path}: expected {je}, stored {ja}");
            return;
        }

        var e = expected is { } x ? ValueConverter.Convert(x, type) : null;
        var a = actual is { } y ? ValueConverter.Convert(y, type) : null;
        Assert.True(Equals(Normalize(e), Normalize(a)), $"{table} {id} {path}: expected {Show(e)}, stored {Show(a)}");
    }

    private static void AssertColumn(string table, string id, ColumnSchema column, object? expected, object? actual)
    {
        var e = Normalize(expected);
        var a = column.Type switch
        {
            ColumnType.Timestamp => Timestamp(actual),
            ColumnType.Date => actual switch { null => null, DateOnly d => d, DateTime dt => DateOnly.FromDateTime(dt), var s => DateOnly.Parse(s.ToString()!, CultureInfo.InvariantCulture) },
            ColumnType.Boolean => actual switch { null => null, bool b => b, var n => Convert.ToInt64(n, CultureInfo.InvariantCulture) != 0 },
            ColumnType.Integer => actual is null ? null : Convert.ToInt64(actual, CultureInfo.InvariantCulture),
            ColumnType.Decimal => actual is null ? null : Convert.ToDecimal(actual, CultureInfo.InvariantCulture),
            ColumnType.Json => actual is null ? null : JsonNode.Parse(actual.ToString()!)!.ToJsonString(),
            _ => actual,
        };
        a = Normalize(a);
        if (column.Type == ColumnType.Json && e is string ej)
        {
            e = JsonNode.Parse(ej)!.ToJsonString();
        }

        if (column.Type == ColumnType.Json && e is not null && a is not null)
        {
            Assert.True(Agrees(JsonNode.Parse((string)e), JsonNode.Parse((string)a)), $"{table} {id} {column.Name}: expected {e}, stored {a}");
            return;
        }

        Assert.True(Equals(e, a), $"{table} {id} column {column.Name} ({column.SourcePath}): expected {Show(e)}, stored {Show(a)}");
    }

    /// <summary>Equal, except that Zoho's answer may add keys its schema requires, as null.</summary>
    private static bool Agrees(JsonNode? expected, JsonNode? actual)
    {
        if (expected is JsonObject eo && actual is JsonObject ao)
        {
            return eo.All(kv => ao.TryGetPropertyValue(kv.Key, out var v) ? Agrees(kv.Value, v) : kv.Value is null)
                && ao.Where(kv => !eo.ContainsKey(kv.Key)).All(kv => kv.Value is null);
        }

        if (expected is JsonArray ea && actual is JsonArray aa)
        {
            return ea.Count == aa.Count && ea.Zip(aa).All(p => Agrees(p.First, p.Second));
        }

        return JsonNode.DeepEquals(expected, actual);
    }

    private static object? Normalize(object? value) => value switch
    {
        DateTimeOffset t => t.ToUniversalTime(),
        decimal d => d / 1.000000000000000000000000000000000m,
        double d => (decimal)d / 1.000000000000000000000000000000000m,
        int i => (long)i,
        _ => value,
    };

    private static DateTimeOffset? Timestamp(object? value) => value switch
    {
        null => null,
        DateTimeOffset t => t.ToUniversalTime(),
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        var s => DateTimeOffset.Parse(s.ToString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
    };

    private static string? Text(object? value) => value?.ToString();

    private static string Show(object? v) => v is null ? "null" : $"{v} ({v.GetType().Name})";
}
