using System.Data.Common;
using System.Globalization;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using Microsoft.Data.Sqlite;

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
