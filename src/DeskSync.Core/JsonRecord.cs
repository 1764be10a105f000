using System.Text.Json;

namespace DeskSync.Core;

/// <summary>
/// Top-level fields of a Zoho record, found in one forward pass. The first occurrence of a
/// repeated name counts, as for the sinks' columns (<c>TableLayout</c>). JsonElement.TryGetProperty
/// searches from the end instead (the last occurrence wins) and passes every field after the one
/// it finds: a ticket lists modifiedTime first of its 53 fields.
/// </summary>
public static class JsonRecord
{
    public static void Find(JsonElement record, ReadOnlySpan<byte> firstName, out JsonElement? first, ReadOnlySpan<byte> secondName, out JsonElement? second)
    {
        first = null;
        second = null;
        if (record.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in record.EnumerateObject())
        {
            if (first is null && property.NameEquals(firstName))
            {
                first = property.Value;
            }
            else if (second is null && property.NameEquals(secondName))
            {
                second = property.Value;
            }

            if (first is not null && second is not null)
            {
                return;
            }
        }
    }

    /// <summary>An object's field by name, the first occurrence of a repeated name.</summary>
    public static bool TryGetFirst(JsonElement obj, string name, out JsonElement value)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The record's id as text (Zoho sends ids as strings; a number is taken as written).</summary>
    public static string Id(JsonElement? id, string what) =>
        id?.ToString() ?? throw new KeyNotFoundException($"{what}: Zoho answered a record without an id.");
}
