using System.Data.Common;
using System.Globalization;
using System.Text;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>SQL text and commands: row values in layout order, the upsert statement, parameterised commands.</summary>
public abstract partial class SqlSink
{
    /// <summary>A row's values in the layout's column order, as the provider wants them (DBNull for null).</summary>
    /// <param name="withRecord">False leaves the record column DBNull, for a writer that writes the record itself.</param>
    protected object[] RowValues(TableLayout layout, ChangeEvent e, DateTimeOffset syncedAt, bool withRecord = true)
    {
        var values = layout.Values(e, syncedAt, withRecord);
        var result = new object[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = ToDb(layout.Columns[i].Type, values[i]);
        }

        return result;
    }

    /// <summary>INSERT … ON CONFLICT (id) DO UPDATE … WHERE the incoming row is not older than the stored one.</summary>
    /// <param name="fromTable">Rows come from this (staging) table instead of one row of parameters.</param>
    /// <param name="update">The columns an existing row takes from the incoming one (default: all).</param>
    protected string UpsertSql(TableLayout layout, string? fromTable = null, IReadOnlySet<string>? update = null)
    {
        var table = Table(layout.Schema.Name);
        var names = layout.Columns.Select(c => Quote(c.Name)).ToList();
        var sb = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"INSERT INTO {table} ({string.Join(", ", names)}) ")
            .Append(fromTable is null
                ? "VALUES (" + string.Join(", ", layout.Columns.Select((_, i) => RowPlaceholder(i))) + ")"
                : $"SELECT {string.Join(", ", names)} FROM {fromTable}")
            .Append(CultureInfo.InvariantCulture, $" ON CONFLICT ({Quote(TableSchema.KeyColumn)}) DO UPDATE SET ")
            .Append(string.Join(", ", layout.Columns.Where(c => c.Name != TableSchema.KeyColumn && (update is null || update.Contains(c.Name))).Select(c => $"{Quote(c.Name)} = excluded.{Quote(c.Name)}")));
        if (layout.ModifiedColumn is { } modified)
        {
            var m = Quote(modified);
            sb.Append(CultureInfo.InvariantCulture, $" WHERE {table}.{m} IS NULL OR excluded.{m} IS NULL OR excluded.{m} >= {table}.{m}");
        }

        return sb.ToString();
    }

    protected async Task ExecuteAsync(string sql, DbTransaction? tx, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = Command(sql, tx, values);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected async Task<object?> ScalarAsync(string sql, DbTransaction? tx, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = Command(sql, tx, values);
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is DBNull ? null : result;
    }

    /// <summary>The first column of every row the query answers, as text (row keys).</summary>
    protected async Task<List<string>> KeysAsync(string sql, DbTransaction? tx, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = Command(sql, tx, values);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    protected DbCommand Command(string sql, DbTransaction? tx, object?[] values)
    {
        var command = Connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            var p = command.CreateParameter();
            p.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            p.Value = values[i] ?? DBNull.Value;
            command.Parameters.Add(p);
        }

        return command;
    }

    private string Upsert(string table, string[] columns, string key) =>
        $"INSERT INTO {Table(table)} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i.ToString(CultureInfo.InvariantCulture)))}) "
        + $"ON CONFLICT ({key}) DO UPDATE SET {string.Join(", ", columns.Where(c => !key.Contains(c, StringComparison.Ordinal)).Select(c => $"{c} = excluded.{c}"))}";
}
