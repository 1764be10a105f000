using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>Where a physical column's value comes from.</summary>
public enum ColumnSource
{
    /// <summary>The record's key (id).</summary>
    Key,

    /// <summary>A field of the record, found by <see cref="PhysicalColumn.Path"/>.</summary>
    Field,

    /// <summary>The whole record as JSON (document mode's record, flat mode's _raw).</summary>
    Record,

    /// <summary>When the row was written: one time per batch.</summary>
    SyncedAt,

    /// <summary>_deleted_at: NULL for a row being written (a soft delete sets it).</summary>
    DeletedAt,
}

/// <summary>A physical column: its safe name, type, and where its value comes from in an event.</summary>
public sealed record PhysicalColumn(string Name, ColumnType Type, ColumnSource Source, IReadOnlyList<string>? Path = null);

/// <summary>
/// The columns a table has in the target for a mode. Document: id, created_time, modified_time,
/// record (the whole Zoho record as JSON), _synced_at. Flat: id, a typed column per declared field
/// (custom fields included), _raw (the whole record, so nothing Zoho sent is ever lost; left out
/// when the target is set so), _synced_at. Both have _deleted_at, set by a delete in soft-delete mode.
/// </summary>
public sealed class TableLayout
{
    public const string SyncedAt = "_synced_at";

    /// <summary>When the row was deleted in Zoho (soft-delete mode); null for a live row.</summary>
    public const string DeletedAt = "_deleted_at";

    /// <summary>Flat mode's copy of the whole record.</summary>
    public const string Raw = "_raw";

    private TableLayout(TableSchema schema, SinkMode mode, IReadOnlyList<PhysicalColumn> columns, string? modifiedColumn, string? recordColumn)
    {
        Schema = schema;
        Mode = mode;
        Columns = columns;
        ModifiedColumn = modifiedColumn;
        RecordColumn = recordColumn;
        IndexFields();
    }

    /// <summary>The column holding the whole record as JSON (record, or _raw in flat mode); null for a flat table without _raw.</summary>
    public string? RecordColumn { get; }

    public TableSchema Schema { get; }

    public SinkMode Mode { get; }

    public IReadOnlyList<PhysicalColumn> Columns { get; }

    /// <summary>A child table's column holding its parent's id (the same name in both modes), or null.</summary>
    public string? ParentColumn => Schema.ParentColumn?.Name;

    /// <summary>The column compared for last-writer-wins, or null when the table has no modifiedTime.</summary>
    public string? ModifiedColumn { get; }

    /// <param name="raw">Flat mode only: false leaves out _raw (the record is then only in its columns).</param>
    public static TableLayout For(TableSchema schema, SinkMode mode, bool raw = true)
    {
        if (mode == SinkMode.Document)
        {
            var hasModified = schema.ModifiedTimeColumn is not null;
            // A child table's parent id is a column in document mode too: it is what joins and cascades use.
            PhysicalColumn[] parent = schema.ParentColumn is { } pc ? [new PhysicalColumn(pc.Name, ColumnType.Text, ColumnSource.Field, pc.Source)] : [];
            return new TableLayout(schema, mode,
            [
                new PhysicalColumn(TableSchema.KeyColumn, ColumnType.Text, ColumnSource.Key),
                .. parent,
                new PhysicalColumn("created_time", ColumnType.Timestamp, ColumnSource.Field, ["createdTime"]),
                new PhysicalColumn("modified_time", ColumnType.Timestamp, ColumnSource.Field, ["modifiedTime"]),
                new PhysicalColumn("record", ColumnType.Json, ColumnSource.Record),
                new PhysicalColumn(TableLayout.SyncedAt, ColumnType.Timestamp, ColumnSource.SyncedAt),
                new PhysicalColumn(DeletedAt, ColumnType.Timestamp, ColumnSource.DeletedAt),
            ], hasModified ? "modified_time" : null, "record");
        }

        var columns = new List<PhysicalColumn>();
        foreach (var column in schema.Columns)
        {
            columns.Add(column.Name == TableSchema.KeyColumn
                ? new PhysicalColumn(TableSchema.KeyColumn, ColumnType.Text, ColumnSource.Key)
                : new PhysicalColumn(column.Name, column.Type, ColumnSource.Field, column.Source));
        }

        if (raw)
        {
            columns.Add(new PhysicalColumn(Raw, ColumnType.Json, ColumnSource.Record));
        }

        columns.Add(new PhysicalColumn(TableLayout.SyncedAt, ColumnType.Timestamp, ColumnSource.SyncedAt));
        columns.Add(new PhysicalColumn(DeletedAt, ColumnType.Timestamp, ColumnSource.DeletedAt));
        return new TableLayout(schema, mode, columns, schema.ModifiedTimeColumn?.Name, raw ? Raw : null);
    }

    /// <summary>
    /// Finds the JSON value of every <see cref="ColumnSource.Field"/> column in one pass over the
    /// record (and one over each nested object a column reads, such as cf): values[i] is column i's
    /// value, default (Undefined) when the record lacks it; a JSON null stays Null. When a name
    /// occurs twice in an object the first occurrence counts. Property names are matched without
    /// allocating a string for each. Safe from several threads (the names remembered by position
    /// are behind a lock).
    /// </summary>
    public void Locate(JsonElement record, Span<JsonElement> values)
    {
        values.Clear();
        if (record.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        Span<bool> seen = _fieldCount <= 1024 ? stackalloc bool[_fieldCount] : new bool[_fieldCount];
        var found = 0;
        lock (_top)
        {
            var position = 0;
            foreach (var property in record.EnumerateObject())
            {
                if (found == _fieldCount)
                {
                    break; // every name is found, so the rest cannot change a value (document mode reads a ticket's 15 first names of 53)
                }

                if (_top.Find(property, position++) is not { } entry || seen[entry.Ordinal])
                {
                    continue;
                }

                seen[entry.Ordinal] = true;
                found++;
                if (entry.Column >= 0)
                {
                    values[entry.Column] = property.Value;
                }

                if (entry.Nested is { } nested && property.Value.ValueKind == JsonValueKind.Object)
                {
                    var innerPosition = 0;
                    foreach (var inner in property.Value.EnumerateObject())
                    {
                        if (nested.Find(inner, innerPosition++) is { } leaf && !seen[leaf.Ordinal])
                        {
                            seen[leaf.Ordinal] = true;
                            found++;
                            values[leaf.Column] = inner.Value;
                        }
                    }
                }
            }
        }

        foreach (var (column, path) in _deepFields)
        {
            if (ValueConverter.TryGet(record, path, out var value))
            {
                values[column] = value;
            }
        }
    }

    /// <summary>
    /// The row's values as .NET values, in column order: text, long, decimal, bool,
    /// DateTimeOffset, DateOnly, JSON as text; null for NULL (and for a value that does not fit the
    /// column's type — the record column keeps it).
    /// </summary>
    /// <param name="withRecord">False leaves the record column null (for a writer that does not write it).</param>
    public object?[] Values(ChangeEvent e, DateTimeOffset syncedAt, bool withRecord = true)
    {
        var located = new JsonElement[Columns.Count];
        if (e.Record is { } record)
        {
            Locate(record, located);
        }

        var values = new object?[Columns.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var c = Columns[i];
            values[i] = c.Source switch
            {
                ColumnSource.Key => e.Key,
                ColumnSource.Record when withRecord => e.Record?.GetRawText(),
                ColumnSource.SyncedAt => syncedAt,
                ColumnSource.Field when located[i].ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null) => ValueConverter.Convert(located[i], c.Type),
                _ => null,
            };
        }

        return values;
    }

    /// <summary>A name of an object that columns read: the column it is (or -1), and the names inside it that columns read.</summary>
    private sealed class FieldEntry(int ordinal, int column)
    {
        /// <summary>This name's place in <see cref="Locate"/>'s "seen" span.</summary>
        public int Ordinal { get; } = ordinal;

        public int Column { get; set; } = column;

        public NameMatcher? Nested { get; set; }
    }

    /// <summary>
    /// Finds the entry of a property name without making a string of it. Zoho's records of one
    /// table list their properties in the same order, so the name at each position is remembered
    /// (as raw UTF-8) and compared first; only a different name goes to the dictionary.
    /// </summary>
    private sealed class NameMatcher
    {
        private const int Remembered = 512;
        private readonly Dictionary<string, FieldEntry> _byName = new(StringComparer.Ordinal);
        private Dictionary<string, FieldEntry>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private byte[]?[] _names = new byte[16][];
        private FieldEntry?[] _entries = new FieldEntry[16];

        public NameMatcher() => _lookup = _byName.GetAlternateLookup<ReadOnlySpan<char>>();

        public bool TryGet(string name, [NotNullWhen(true)] out FieldEntry? entry) => _byName.TryGetValue(name, out entry);

        public void Add(string name, FieldEntry entry) => _byName[name] = entry;

        public FieldEntry? Find(JsonProperty property, int position)
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(property);
            if (position < _names.Length && _names[position] is { } known && raw.SequenceEqual(known))
            {
                return _entries[position];
            }

            var entry = Lookup(property, raw);
            if (position < Remembered)
            {
                if (position >= _names.Length)
                {
                    Array.Resize(ref _names, Math.Min(Remembered, _names.Length * 4));
                    Array.Resize(ref _entries, _names.Length);
                }

                _names[position] = raw.ToArray();
                _entries[position] = entry;
            }

            return entry;
        }

        private FieldEntry? Lookup(JsonProperty property, ReadOnlySpan<byte> raw)
        {
            Span<char> name = stackalloc char[Math.Min(raw.Length, 256)];
            if (raw.Length <= 256 && !raw.Contains((byte)'\\') && Ascii.ToUtf16(raw, name, out var length) == OperationStatus.Done)
            {
                return _lookup.TryGetValue(name[..length], out var entry) ? entry : null;
            }

            // Escaped or non-ASCII names: the JSON reader unescapes and decodes them.
            return _byName.TryGetValue(property.Name, out var slow) ? slow : null;
        }
    }

    private readonly NameMatcher _top = new();
    private readonly List<(int Column, IReadOnlyList<string> Path)> _deepFields = [];
    private int _fieldCount;

    private void IndexFields()
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i] is not { Source: ColumnSource.Field, Path: { Count: > 0 } path })
            {
                continue;
            }

            if (path.Count > 2)
            {
                _deepFields.Add((i, path));
                continue;
            }

            if (!_top.TryGet(path[0], out var entry))
            {
                _top.Add(path[0], entry = new FieldEntry(_fieldCount++, -1));
            }

            if (path.Count == 1)
            {
                entry.Column = entry.Column < 0 ? i : entry.Column;
                continue;
            }

            entry.Nested ??= new NameMatcher();
            if (!entry.Nested.TryGet(path[1], out _))
            {
                entry.Nested.Add(path[1], new FieldEntry(_fieldCount++, i));
            }
        }
    }
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
