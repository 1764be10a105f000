using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace DeskSync.Core;

/// <summary>
/// Turns a JSON value from Zoho into the column's type. Zoho sends most numbers and booleans as
/// strings ("threadCount":"1", cf values) and times as ISO-8601 or epoch milliseconds; a value
/// that does not parse, or lies outside what the column can hold (an epoch past year 9999), becomes
/// null here and never throws: the raw record keeps it, and no value can stop a load or the applier.
/// </summary>
public static class ValueConverter
{
    public static bool TryGet(JsonElement record, IReadOnlyList<string> source, out JsonElement value)
    {
        value = record;
        foreach (var part in source)
        {
            if (value.ValueKind != JsonValueKind.Object || !JsonRecord.TryGetFirst(value, part, out value))
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
            return FromEpoch(ms);
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        if (TryParseIso(JsonMarshal.GetRawUtf8Value(value)[1..^1], out var exact))
        {
            return exact; // Zoho's usual form, parsed without guessing
        }

        var text = value.GetString()!;

        if (text.Length >= 12 && text.All(char.IsAsciiDigit) && long.TryParse(text, CultureInfo.InvariantCulture, out var epoch))
        {
            return FromEpoch(epoch);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    /// <summary>Epoch milliseconds within what a time can hold (years 1 to 9999), else null.</summary>
    public static DateTimeOffset? FromEpoch(long ms) =>
        ms is >= -62135596800000 and <= 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>ISO-8601 UTC with milliseconds (yyyy-MM-ddTHH:mm:ss.fffZ): sorts as text in the same order as in time.</summary>
    public static string Iso(DateTimeOffset t) => string.Create(24, t.UtcDateTime, static (chars, u) =>
    {
        static void Digits(Span<char> to, int value)
        {
            for (var i = to.Length - 1; i >= 0; i--, value /= 10)
            {
                to[i] = (char)('0' + (value % 10));
            }
        }

        "0000-00-00T00:00:00.000Z".CopyTo(chars);
        Digits(chars[..4], u.Year);
        Digits(chars[5..7], u.Month);
        Digits(chars[8..10], u.Day);
        Digits(chars[11..13], u.Hour);
        Digits(chars[14..16], u.Minute);
        Digits(chars[17..19], u.Second);
        Digits(chars[20..23], u.Millisecond);
    });

    /// <summary>A time DeskSync wrote (a cursor, a bound): <see cref="Iso"/>'s form fast, any ISO-8601 otherwise, as UTC.</summary>
    public static DateTimeOffset ParseTime(string text)
    {
        Span<byte> utf8 = stackalloc byte[24];
        return text.Length == 24 && System.Text.Encoding.ASCII.TryGetBytes(text, utf8, out _) && TryParseIso(utf8, out var fast)
            ? fast
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
    }

    /// <summary>
    /// Parses exactly the form <see cref="Iso"/> writes (yyyy-MM-ddTHH:mm:ss.fffZ, Zoho's usual
    /// form) from UTF-8, checking that the time exists; false for anything else. Text in this
    /// form is stored as it stands: parsing and formatting it again gives the same text.
    /// </summary>
    public static bool TryParseIso(ReadOnlySpan<byte> t, out DateTimeOffset value)
    {
        value = default;
        if (t.Length != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' || t[23] != 'Z')
        {
            return false;
        }

        static int Number(ReadOnlySpan<byte> d)
        {
            var n = 0;
            foreach (var b in d)
            {
                if (b is < (byte)'0' or > (byte)'9')
                {
                    return -1;
                }

                n = (n * 10) + b - '0';
            }

            return n;
        }

        var (year, month, day) = (Number(t[..4]), Number(t[5..7]), Number(t[8..10]));
        var (hour, minute, second, ms) = (Number(t[11..13]), Number(t[14..16]), Number(t[17..19]), Number(t[20..23]));
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59 || ms < 0)
        {
            return false;
        }

        value = new DateTimeOffset(year, month, day, hour, minute, second, ms, TimeSpan.Zero);
        return true;
    }

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
