using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>A physical column: its safe name, type, and how its value comes out of an event.</summary>
public sealed record PhysicalColumn(string Name, ColumnType Type, Func<RowView, object?> Value);

/// <summary>
/// An event being written, with its record's properties indexed once: JsonElement.TryGetProperty
/// scans an object's properties, so looking up 70 columns one by one costs 70 scans.
/// </summary>
public sealed class RowView(ChangeEvent e)
{
    private Dictionary<string, JsonElement>? _top;
    private Dictionary<string, Dictionary<string, JsonElement>>? _nested;

    public ChangeEvent Event { get; } = e;

    public static implicit operator RowView(ChangeEvent e) => new(e);

    public bool TryGet(IReadOnlyList<string> path, out JsonElement value)
    {
        value = default;
        if (Event.Record is not { ValueKind: JsonValueKind.Object } record)
        {
            return false;
        }

        _top ??= Index(record);
        if (!_top.TryGetValue(path[0], out value))
        {
            return false;
        }

        if (path.Count == 2)
        {
            _nested ??= new Dictionary<string, Dictionary<string, JsonElement>>(StringComparer.Ordinal);
            if (!_nested.TryGetValue(path[0], out var inner))
            {
                _nested[path[0]] = inner = value.ValueKind == JsonValueKind.Object ? Index(value) : [];
            }

            if (!inner.TryGetValue(path[1], out value))
            {
                return false;
            }
        }
        else if (path.Count > 2)
        {
            return ValueConverter.TryGet(record, path, out value);
        }

        return value.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined;
    }

    private static Dictionary<string, JsonElement> Index(JsonElement obj)
    {
        var d = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            d.TryAdd(p.Name, p.Value);
        }

        return d;
    }
}

/// <summary>
/// The columns a table has in the target for a mode. Document: id, created_time, modified_time,
/// record (the whole Zoho record as JSON), _synced_at. Flat: id, a typed column per declared field
/// (custom fields included), _raw (the whole record, so nothing Zoho sent is ever lost), _synced_at.
/// Both have _deleted_at, set by a delete in soft-delete mode.
/// </summary>
public sealed class TableLayout
{
    public const string SyncedAt = "_synced_at";

    /// <summary>When the row was deleted in Zoho (soft-delete mode); null for a live row.</summary>
    public const string DeletedAt = "_deleted_at";

    private TableLayout(TableSchema schema, SinkMode mode, IReadOnlyList<PhysicalColumn> columns, string? modifiedColumn, string recordColumn)
    {
        Schema = schema;
        Mode = mode;
        Columns = columns;
        ModifiedColumn = modifiedColumn;
        RecordColumn = recordColumn;
    }

    /// <summary>The column holding the whole record as JSON (record, or _raw in flat mode).</summary>
    public string RecordColumn { get; }

    public TableSchema Schema { get; }

    public SinkMode Mode { get; }

    public IReadOnlyList<PhysicalColumn> Columns { get; }

    /// <summary>The column compared for last-writer-wins, or null when the table has no modifiedTime.</summary>
    public string? ModifiedColumn { get; }

    public static TableLayout For(TableSchema schema, SinkMode mode, TimeProvider time)
    {
        object SyncedAt(RowView _) => time.GetUtcNow();
        if (mode == SinkMode.Document)
        {
            var hasModified = schema.ModifiedTimeColumn is not null;
            return new TableLayout(schema, mode,
            [
                new PhysicalColumn(TableSchema.KeyColumn, ColumnType.Text, r => r.Event.Key),
                new PhysicalColumn("created_time", ColumnType.Timestamp, r => Field(r, ["createdTime"], ColumnType.Timestamp)),
                new PhysicalColumn("modified_time", ColumnType.Timestamp, r => Field(r, ["modifiedTime"], ColumnType.Timestamp)),
                new PhysicalColumn("record", ColumnType.Json, r => r.Event.Record?.GetRawText()),
                new PhysicalColumn(TableLayout.SyncedAt, ColumnType.Timestamp, SyncedAt),
                new PhysicalColumn(DeletedAt, ColumnType.Timestamp, _ => null),
            ], hasModified ? "modified_time" : null, "record");
        }

        var columns = new List<PhysicalColumn>();
        foreach (var column in schema.Columns)
        {
            columns.Add(column.Name == TableSchema.KeyColumn
                ? new PhysicalColumn(TableSchema.KeyColumn, ColumnType.Text, r => r.Event.Key)
                : new PhysicalColumn(column.Name, column.Type, r => Field(r, column.Source, column.Type)));
        }

        columns.Add(new PhysicalColumn("_raw", ColumnType.Json, r => r.Event.Record?.GetRawText()));
        columns.Add(new PhysicalColumn(TableLayout.SyncedAt, ColumnType.Timestamp, SyncedAt));
        columns.Add(new PhysicalColumn(DeletedAt, ColumnType.Timestamp, _ => null));
        return new TableLayout(schema, mode, columns, schema.ModifiedTimeColumn?.Name, "_raw");
    }

    private static object? Field(RowView row, IReadOnlyList<string> source, ColumnType type) =>
        row.TryGet(source, out var value) ? ValueConverter.Convert(value, type) : null;
}

internal static class EventsExtensions
{
    /// <summary>Within one batch only the newest version of a key matters (by modifiedTime, then by order).</summary>
    public static List<ChangeEvent> NewestPerKey(this IReadOnlyList<ChangeEvent> events)
    {
        var latest = new Dictionary<string, ChangeEvent>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (!latest.TryGetValue(e.Key, out var seen) || seen.ModifiedTime is null || e.ModifiedTime is null || e.ModifiedTime >= seen.ModifiedTime)
            {
                latest[e.Key] = e;
            }
        }

        return [.. latest.Values];
    }

    public static string Json(this JsonElement element) => element.GetRawText();
}
