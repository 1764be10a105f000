using System.Buffers.Text;
using System.Data.Common;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace DeskSync.Sinks.Sqlite;

/// <summary>Rows into SQLite: one prepared statement per table, each field bound straight from the record's JSON bytes.</summary>
public sealed partial class SqliteSink
{
    /// <summary>
    /// Rows bound by position straight on the connection's SQLite handle (inside the same
    /// transaction): ADO.NET parameters cost a name lookup and an object per value per row, which
    /// was most of a flat row's time with ~70 columns. Text that SQLite would store exactly as it
    /// stands in Zoho's JSON — the record itself, unescaped strings, JSON values, timestamps already
    /// in the stored form — is bound as those UTF-8 bytes, with no string made and converted back;
    /// everything else goes through the same conversion as every target (decimals as invariant
    /// text, which NUMERIC affinity stores as a number).
    /// </summary>
    protected override Task WriteRowsAsync(TableLayout layout, string sql, IReadOnlyList<ChangeEvent> rows, DateTimeOffset syncedAt, DbTransaction tx, CancellationToken cancellationToken)
    {
        var db = ((SqliteConnection)Connection).Handle!;
        var synced = Encoding.UTF8.GetBytes(ValueConverter.Iso(syncedAt));
        var located = new JsonElement[layout.Columns.Count];
        Check(db, raw.sqlite3_prepare_v2(db, sql, out var statement));
        using (statement)
        {
            foreach (var e in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (e.Record is { } record)
                {
                    layout.Locate(record, located);
                }
                else
                {
                    Array.Clear(located);
                }

                for (var i = 0; i < located.Length; i++)
                {
                    var column = layout.Columns[i];
                    var index = i + 1;
                    Check(db, column.Source switch
                    {
                        ColumnSource.Key => raw.sqlite3_bind_text(statement, index, e.Key),
                        ColumnSource.Record when e.Record is { } r => BindJson(statement, index, r),
                        ColumnSource.SyncedAt => raw.sqlite3_bind_text(statement, index, synced),
                        ColumnSource.Field when located[i].ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null) => BindField(statement, index, column.Type, located[i]),
                        _ => raw.sqlite3_bind_null(statement, index),
                    });
                }

                var step = raw.sqlite3_step(statement);
                if (step != raw.SQLITE_DONE)
                {
                    Check(db, step);
                }

                raw.sqlite3_reset(statement);
            }
        }

        return Task.CompletedTask;
    }

    private int BindField(sqlite3_stmt statement, int index, ColumnType type, JsonElement value)
    {
        var text = JsonMarshal.GetRawUtf8Value(value);
        switch (type)
        {
            case ColumnType.Json:
                return BindJson(statement, index, value);
            case ColumnType.Text when value.ValueKind == JsonValueKind.String && text[1..^1] is var inner && !inner.Contains((byte)'\\') && Utf8.IsValid(inner):
                return raw.sqlite3_bind_text(statement, index, inner);
            case ColumnType.Text when value.ValueKind != JsonValueKind.String:
                return BindJson(statement, index, value); // a number or an object in a text column: its JSON text
            case ColumnType.Timestamp when value.ValueKind == JsonValueKind.String && text[1..^1] is var inner && ValueConverter.TryParseIso(inner, out _):
                return raw.sqlite3_bind_text(statement, index, inner);
            case ColumnType.Integer when Unquoted(value, text) is var digits && IsPlainNumber(digits, fraction: false) && Utf8Parser.TryParse(digits, out long number, out _):
                return raw.sqlite3_bind_int64(statement, index, number);
            case ColumnType.Decimal when Unquoted(value, text) is var digits && IsPlainNumber(digits, fraction: true):
                return raw.sqlite3_bind_text(statement, index, digits); // NUMERIC affinity makes it the same number as the decimal's text would
            case ColumnType.Boolean when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                return raw.sqlite3_bind_int64(statement, index, value.ValueKind == JsonValueKind.True ? 1 : 0);
            default:
                return Bind(statement, index, ToDb(type, ValueConverter.Convert(value, type)));
        }
    }

    /// <summary>A JSON value's own text (what GetRawText gives), as UTF-8; through a string only if the bytes are not valid UTF-8.</summary>
    private static int BindJson(sqlite3_stmt statement, int index, JsonElement value)
    {
        var text = JsonMarshal.GetRawUtf8Value(value);
        return Utf8.IsValid(text) ? raw.sqlite3_bind_text(statement, index, text) : raw.sqlite3_bind_text(statement, index, value.GetRawText());
    }

    private static int Bind(sqlite3_stmt statement, int index, object value) => value switch
    {
        DBNull => raw.sqlite3_bind_null(statement, index),
        string text => raw.sqlite3_bind_text(statement, index, text),
        long number => raw.sqlite3_bind_int64(statement, index, number),
        int number => raw.sqlite3_bind_int64(statement, index, number),
        double number => raw.sqlite3_bind_double(statement, index, number),
        decimal number => raw.sqlite3_bind_text(statement, index, number.ToString("0.0###########################", CultureInfo.InvariantCulture)),
        var other => raw.sqlite3_bind_text(statement, index, Convert.ToString(other, CultureInfo.InvariantCulture)),
    };

    private static ReadOnlySpan<byte> Unquoted(JsonElement value, ReadOnlySpan<byte> text) => value.ValueKind switch
    {
        JsonValueKind.Number => text,
        JsonValueKind.String => text[1..^1],
        _ => [],
    };

    /// <summary>
    /// -?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})? : a number whose value a double holds as the decimal
    /// conversion would (no exponent, no leading zeros, no negative zero, at most 15 digits a side).
    /// </summary>
    internal static bool IsPlainNumber(ReadOnlySpan<byte> t, bool fraction)
    {
        if (t.Length > 0 && t[0] == '-')
        {
            t = t[1..];
            if (t.Length > 0 && t[0] == '0')
            {
                return false;
            }
        }

        var point = t.IndexOf((byte)'.');
        var whole = point < 0 ? t : t[..point];
        if (whole.Length is 0 or > 15 || (whole[0] == '0' && whole.Length > 1) || whole.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return false;
        }

        if (point < 0)
        {
            return true;
        }

        var part = t[(point + 1)..];
        return fraction && part.Length is > 0 and <= 15 && part.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0;
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc, raw.sqlite3_extended_errcode(db));
        }
    }
}
