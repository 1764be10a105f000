using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams;

/// <summary>
/// A table's declared schema: its standard columns (snake_case), then one column per custom
/// field from the module's field definitions, typed from the field's Zoho type. Custom-field
/// names come from Zoho and are untrusted: <see cref="ColumnNames"/> makes them safe and unique.
/// </summary>
public static class DeskSchemaBuilder
{
    /// <summary>Columns every flat table has besides its fields.</summary>
    public static readonly string[] Reserved = ["_raw", "_synced_at"];

    public static TableSchema Build(DeskStream table, IReadOnlyList<JsonElement> fieldDefinitions)
    {
        var names = new ColumnNames(Reserved);
        var columns = new List<ColumnSchema>();
        foreach (var field in table.Fields)
        {
            columns.Add(new ColumnSchema(names.Claim(ColumnNames.Snake(field.Source)), field.Type, [field.Source]));
        }

        foreach (var def in fieldDefinitions)
        {
            // Zoho answers booleans as "true" at times: the converter reads both forms.
            if (!def.TryGetProperty("isCustomField", out var custom) || ValueConverter.Convert(custom, ColumnType.Boolean) is not true
                || !def.TryGetProperty("apiName", out var apiNameElement) || apiNameElement.GetString() is not { Length: > 0 } apiName)
            {
                continue;
            }

            var zohoType = def.TryGetProperty("type", out var t) ? t.GetString() : null;
            var label = def.TryGetProperty("displayLabel", out var l) ? l.GetString() : null;
            columns.Add(new ColumnSchema(names.Claim(apiName), ColumnTypeOf(zohoType), ["cf", apiName], IsCustomField: true, label, zohoType));
        }

        return new TableSchema(table.Name, columns)
        {
            ParentColumn = table.Parent is { } parent ? columns.First(c => c.Source is [var source] && source == parent.ParentField) : null,
        };
    }

    public static ColumnType ColumnTypeOf(string? zohoType) => zohoType switch
    {
        "Number" => ColumnType.Integer,
        "Decimal" or "Percent" or "Currency" => ColumnType.Decimal,
        "Boolean" or "Checkbox" => ColumnType.Boolean,
        "Date" => ColumnType.Date,
        "DateTime" => ColumnType.Timestamp,
        _ => ColumnType.Text, // Text, Textarea, LargeText, Email, Phone, Fax, URL, Picklist, Multiselect ("a;b"), LookUp (an id), AutoNumber
    };
}
