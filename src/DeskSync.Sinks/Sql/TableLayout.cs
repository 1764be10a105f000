using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>A physical column: its safe name, type, and how its value comes out of an event.</summary>
public sealed record PhysicalColumn(string Name, ColumnType Type, Func<ChangeEvent, object?> Value);

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
        object SyncedAt(ChangeEvent _) => time.GetUtcNow();
        if (mode == SinkMode.Document)
        {
            var hasModified = schema.ModifiedTimeColumn is not null;
            return new TableLayout(schema, mode,
            [
                new PhysicalColumn(TableSchema.KeyColumn, ColumnType.Text, e => e.Key),
                new PhysicalColumn("created_time", ColumnType.Timestamp, e => Field(e, ["createdTime"], ColumnType.Timestamp)),
                new PhysicalColumn("modified_time", ColumnType.Timestamp, e => Field(e, ["modifiedTime"], ColumnType.Timestamp)),
                new PhysicalColumn("record", ColumnType.Json, e => e.Record?.GetRawText()),
                new PhysicalColumn(TableLayout.SyncedAt, ColumnType.Timestamp, SyncedAt),
                new PhysicalColumn(DeletedAt, ColumnType.Timestamp, _ => null),
            ], hasModified ? "modified_time" : null, "record");
        }

        var columns = new List<PhysicalColumn>();
        foreach (var column in schema.Columns)
        {
            columns.Add(column.Name == TableSchema.KeyColumn
                ? new PhysicalColumn(TableSchema.KeyColumn, ColumnType.Text, e => e.Key)
                : new PhysicalColumn(column.Name, column.Type, e => Field(e, column.Source, column.Type)));
        }

        columns.Add(new PhysicalColumn("_raw", ColumnType.Json, e => e.Record?.GetRawText()));
        columns.Add(new PhysicalColumn(TableLayout.SyncedAt, ColumnType.Timestamp, SyncedAt));
        columns.Add(new PhysicalColumn(DeletedAt, ColumnType.Timestamp, _ => null));
        return new TableLayout(schema, mode, columns, schema.ModifiedTimeColumn?.Name, "_raw");
    }

    private static object? Field(ChangeEvent e, IReadOnlyList<string> source, ColumnType type) =>
        e.Record is { } record && ValueConverter.TryGet(record, source, out var value) ? ValueConverter.Convert(value, type) : null;
}

/// <summary>A target refused what DeskSync asked of it; the message says what to do.</summary>
public sealed class SinkException(string message, Exception? inner = null) : Exception(message, inner);

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
