using System.Data.Common;
using System.Globalization;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace DeskSync.Sinks.Sqlite;

/// <summary>
/// SQLite, the embedded default: one file, WAL journal. Types: TEXT, INTEGER, NUMERIC, booleans
/// as 0/1, times as ISO-8601 UTC text with milliseconds (sorts like time), JSON as text
/// (query it with json_extract).
/// </summary>
public sealed class SqliteSink(string path, SinkMode mode, TimeProvider? time = null) : SqlSink(mode, time)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public override string Describe() => $"SQLite {Path}";

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            // WAL: readers do not block the writer; NORMAL: a commit may be lost on power failure,
            // but never half of one — rows and their checkpoint go together.
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA wal_autocheckpoint=16384; PRAGMA cache_size=-16384;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync();
            throw new SinkException($"Cannot open the SQLite file {Path}: {ex.Message}. Check the path and its permissions.", ex, retryable: true);
        }

        return connection;
    }

    /// <summary>
    /// Rows bound by position straight on the connection's SQLite handle (inside the same
    /// transaction): ADO.NET parameters cost a name lookup and an object per value per row, which
    /// was most of a flat row's time with ~70 columns. Values are bound as Microsoft.Data.Sqlite
    /// binds them (decimals as invariant text, which NUMERIC affinity stores as a number).
    /// </summary>
    protected override Task WriteRowsAsync(TableLayout layout, string sql, IReadOnlyList<ChangeEvent> rows, DbTransaction tx, CancellationToken cancellationToken)
    {
        var db = ((SqliteConnection)Connection).Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, sql, out var statement));
        using (statement)
        {
            foreach (var e in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var values = RowValues(layout, e);
                for (var i = 0; i < values.Length; i++)
                {
                    var index = i + 1;
                    var rc = values[i] switch
                    {
                        DBNull => raw.sqlite3_bind_null(statement, index),
                        string text => raw.sqlite3_bind_text(statement, index, text),
                        long number => raw.sqlite3_bind_int64(statement, index, number),
                        int number => raw.sqlite3_bind_int64(statement, index, number),
                        double number => raw.sqlite3_bind_double(statement, index, number),
                        decimal number => raw.sqlite3_bind_text(statement, index, number.ToString("0.0###########################", CultureInfo.InvariantCulture)),
                        var other => raw.sqlite3_bind_text(statement, index, Convert.ToString(other, CultureInfo.InvariantCulture)),
                    };
                    Check(db, rc);
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

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc, raw.sqlite3_extended_errcode(db));
        }
    }

    protected override string SqlType(ColumnType type) => type switch
    {
        ColumnType.Integer or ColumnType.Boolean => "INTEGER",
        ColumnType.Decimal => "NUMERIC",
        _ => "TEXT",
    };

    protected override object ToDb(ColumnType type, object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset t => ValueConverter.Iso(t),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? 1L : 0L,
        _ => value,
    };

    protected override async Task<HashSet<string>> ExistingColumnsAsync(string table, DbTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = Connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT name FROM pragma_table_info(@p0)";
        var p = command.CreateParameter();
        p.ParameterName = "@p0";
        p.Value = table;
        command.Parameters.Add(p);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
