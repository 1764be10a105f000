using System.Globalization;
using System.Text.Json;

namespace DeskSync.Core;

/// <summary>
/// Turns a JSON value from Zoho into the column's type. Zoho sends most numbers and booleans as
/// strings ("threadCount":"1", cf values) and times as ISO-8601 or epoch milliseconds; a value
/// that does not parse becomes null here (the raw record keeps it).
/// </summary>
public static class ValueConverter
{
    public static bool TryGet(JsonElement record, IReadOnlyList<string> source, out JsonElement value)
    {
        value = record;
        foreach (var part in source)
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value))
            {
                return false;
            }
        }

        return value.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined;
    }

    public static object? Convert(JsonElement value, ColumnType type) => type switch
    {
        ColumnType.Text => value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText(),
        ColumnType.Json => value.GetRawText(),
        ColumnType.Integer => ToDecimal(value) is { } d && d == Math.Truncate(d) && d >= long.MinValue && d <= long.MaxValue ? (long)d : null,
        ColumnType.Decimal => ToDecimal(value),
        ColumnType.Boolean => value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetString(), out var b) => b,
            _ => null,
        },
        ColumnType.Timestamp => ToTimestamp(value),
        ColumnType.Date => ToDate(value),
        _ => null,
    };

    public static DateTimeOffset? ToTimestamp(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var ms))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var text = value.GetString()!;
        if (text.Length == 24 && DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var exact))
        {
            return exact; // Zoho's usual form, parsed without guessing
        }

        if (text.Length >= 12 && text.All(char.IsAsciiDigit) && long.TryParse(text, CultureInfo.InvariantCulture, out var epoch))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(epoch);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    /// <summary>ISO-8601 UTC with milliseconds: sorts as text in the same order as in time.</summary>
    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static DateOnly? ToDate(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : ToTimestamp(value) is { } t ? DateOnly.FromDateTime(t.UtcDateTime) : null;

    private static decimal? ToDecimal(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d))
        {
            return d;
        }

        return value.ValueKind == JsonValueKind.String && decimal.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : null;
    }
}
