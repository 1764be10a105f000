using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>What each change does to a row: upsert, merge of a partial update into the stored record, delete (hard or soft) with a tombstone that keeps an older change from bringing the row back.</summary>
public abstract partial class SqlSink
{
    /// <summary>Full records, newest per key, not older than a remembered delete of the same row (by their modifiedTime, or when Zoho listed them).</summary>
    /// <param name="sql">The statement (default: every column replaced; see <see cref="UpsertSql"/>).</param>
    private async Task UpsertAsync(TableLayout layout, IReadOnlyList<ChangeEvent> events, DbTransaction tx, CancellationToken ct, string? sql = null)
    {
        var rows = events.Where(e => e.Record is not null).ToList().NewestPerKey();
        if (rows.Count > 0 && await HasTombstonesAsync(layout.Schema.Name, tx, ct))
        {
            var deleted = await TombstonesAsync(layout.Schema.Name, rows.Select(r => r.Key).ToList(), tx, ct);
            rows = [.. rows.Where(r => !deleted.TryGetValue(r.Key, out var at) || (r.ModifiedTime is { } m && m > at) || (r.ListedAt is { } l && l > at))];
        }

        if (rows.Count > 0)
        {
            await WriteRowsAsync(layout, sql ?? UpsertSql(layout), rows, Time.GetUtcNow(), tx, ct);
        }
    }

    /// <summary>
    /// A thin payload laid over the stored row: the fields it carries replace, the rest stay. With
    /// a record column, the stored record is merged and the row written whole; a flat table
    /// without _raw has only its columns, so just the columns the payload carries are set.
    /// </summary>
    private async Task MergeAsync(TableLayout layout, ChangeEvent e, DbTransaction tx, CancellationToken ct)
    {
        if (layout.RecordColumn is null)
        {
            var located = new JsonElement[layout.Columns.Count];
            if (e.Record is { } record)
            {
                layout.Locate(record, located);
            }

            var carried = layout.Columns.Where((c, i) => c.Source != ColumnSource.Field || located[i].ValueKind != JsonValueKind.Undefined).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            await UpsertAsync(layout, [e with { IsPartial = false }], tx, ct, UpsertSql(layout, update: carried));
            return;
        }

        await UpsertAsync(layout, [await MergedAsync(layout, layout.RecordColumn, e, tx, ct)], tx, ct);
    }

    private async Task<ChangeEvent> MergedAsync(TableLayout layout, string recordColumn, ChangeEvent e, DbTransaction tx, CancellationToken ct)
    {
        var stored = await ScalarAsync($"SELECT {Quote(recordColumn)} FROM {Table(layout.Schema.Name)} WHERE {Quote(TableSchema.KeyColumn)} = @p0", tx, ct, e.Key);
        if (stored is null || e.Record is not { } payload)
        {
            return e with { IsPartial = false };
        }

        // A name repeated in the stored record or the payload counts once, its first time, as in
        // the columns (JsonObject would throw on the stored one, and let the payload's last win).
        using var storedRecord = JsonDocument.Parse(stored.ToString()!);
        var merged = storedRecord.RootElement.ValueKind == JsonValueKind.Object ? FirstOfEach(storedRecord.RootElement) : [];
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in payload.EnumerateObject())
        {
            if (!given.Add(property.Name))
            {
                continue;
            }

            if (IsCustomFields(property) && merged[property.Name] is JsonObject existing)
            {
                foreach (var field in FirstOfEach(property.Value))
                {
                    existing[field.Key] = field.Value?.DeepClone();
                }
            }
            else
            {
                merged[property.Name] = JsonNode.Parse(property.Value.GetRawText());
            }
        }

        return e with { Record = JsonSerializer.SerializeToElement(merged), IsPartial = false };
    }

    /// <summary>A record's custom fields object, which a thin payload merges field by field.</summary>
    private static bool IsCustomFields(JsonProperty property) => property.Name is "cf" or "customFields" && property.Value.ValueKind == JsonValueKind.Object;

    /// <summary>An object's fields as a JsonObject, the first occurrence of a repeated name kept (custom field objects too).</summary>
    private static JsonObject FirstOfEach(JsonElement obj)
    {
        var result = new JsonObject();
        foreach (var property in obj.EnumerateObject())
        {
            if (!result.ContainsKey(property.Name))
            {
                result[property.Name] = IsCustomFields(property)
                    ? FirstOfEach(property.Value)
                    : JsonNode.Parse(property.Value.GetRawText());
            }
        }

        return result;
    }

    private async Task DeleteAsync(TableLayout layout, ChangeEvent e, DbTransaction tx, CancellationToken ct)
    {
        var table = Table(layout.Schema.Name);
        var key = Quote(TableSchema.KeyColumn);
        var when = e.ModifiedTime ?? Time.GetUtcNow();
        // A row changed after the delete (restored from the recycle bin) stays.
        var guard = layout.ModifiedColumn is { } m ? $" AND ({Quote(m)} IS NULL OR {Quote(m)} <= @p1)" : "";
        if (DeleteMode == DeleteMode.Hard)
        {
            await ExecuteAsync($"DELETE FROM {table} WHERE {key} = @p0{guard}", tx, ct, e.Key, ToDb(ColumnType.Timestamp, when));
        }
        else
        {
            await ExecuteAsync($"UPDATE {table} SET {Quote(TableLayout.DeletedAt)} = @p1 WHERE {key} = @p0{guard}", tx, ct, e.Key, ToDb(ColumnType.Timestamp, when));
        }

        var tombstones = Table("_desksync_tombstones");
        await ExecuteAsync(
            $"INSERT INTO {tombstones} (table_name, id, deleted_at) VALUES (@p0, @p1, @p2) ON CONFLICT (table_name, id) DO UPDATE SET deleted_at = excluded.deleted_at WHERE excluded.deleted_at > {tombstones}.deleted_at",
            tx, ct, layout.Schema.Name, e.Key, ToDb(ColumnType.Timestamp, when));
        _tablesWithTombstones.Add(layout.Schema.Name);
    }

    /// <summary>
    /// A parent's children that are not kept: each deleted as one row is, tombstone and all. A row
    /// written since the listing began (<see cref="ParentScope.WrittenBefore"/>) stays.
    /// </summary>
    private async Task DeleteChildrenAsync(TableLayout layout, ChangeEvent e, ParentScope scope, DbTransaction tx, CancellationToken ct)
    {
        var parent = layout.ParentColumn ?? throw new SinkException($"{layout.Schema.Name} has no parent column: a delete of a parent's children cannot apply to it.");
        var keep = scope.Keep as IReadOnlySet<string> ?? scope.Keep.ToHashSet(StringComparer.Ordinal);
        var live = $"SELECT {Quote(TableSchema.KeyColumn)} FROM {Table(layout.Schema.Name)} WHERE {Quote(parent)} = @p0 AND {Quote(TableLayout.DeletedAt)} IS NULL";
        var rows = scope.WrittenBefore is { } at
            ? await KeysAsync(live + $" AND {Quote(TableLayout.SyncedAt)} < @p1", tx, ct, e.Key, ToDb(ColumnType.Timestamp, at))
            : await KeysAsync(live, tx, ct, e.Key);
        foreach (var key in rows.Where(k => !keep.Contains(k)))
        {
            await DeleteAsync(layout, e with { Key = key, Scope = null }, tx, ct);
        }
    }

    /// <summary>
    /// Whether any row of the table was deleted: once seen, remembered; until then asked in the
    /// transaction, since another process applying the data source before this one (a lease
    /// handed over) may have written the first.
    /// </summary>
    private async Task<bool> HasTombstonesAsync(string table, DbTransaction tx, CancellationToken ct)
    {
        if (_tablesWithTombstones.Contains(table))
        {
            return true;
        }

        if (await ScalarAsync($"SELECT 1 FROM {Table("_desksync_tombstones")} WHERE table_name = @p0 LIMIT 1", tx, ct, table) is null)
        {
            return false;
        }

        _tablesWithTombstones.Add(table);
        return true;
    }

    private async Task<Dictionary<string, DateTimeOffset>> TombstonesAsync(string table, List<string> keys, DbTransaction tx, CancellationToken ct)
    {
        var found = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var chunk in keys.Chunk(500))
        {
            await using var command = Connection.CreateCommand();
            command.Transaction = tx;
            var names = new List<string>();
            for (var i = 0; i < chunk.Length; i++)
            {
                var p = command.CreateParameter();
                p.ParameterName = "@k" + i.ToString(CultureInfo.InvariantCulture);
                p.Value = chunk[i];
                command.Parameters.Add(p);
                names.Add(p.ParameterName);
            }

            var t = command.CreateParameter();
            t.ParameterName = "@t";
            t.Value = table;
            command.Parameters.Add(t);
            command.CommandText = $"SELECT id, deleted_at FROM {Table("_desksync_tombstones")} WHERE table_name = @t AND id IN ({string.Join(", ", names)})";
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                found[reader.GetString(0)] = reader.GetValue(1) switch
                {
                    DateTimeOffset d => d,
                    DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
                    var v => DateTimeOffset.Parse(v.ToString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                };
            }
        }

        return found;
    }
}
