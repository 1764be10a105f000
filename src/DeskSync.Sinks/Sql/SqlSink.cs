using System.Data.Common;
using System.Globalization;
using System.Text;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>
/// What the SQLite and PostgreSQL sinks share: the layout per mode, idempotent upserts with
/// last-writer-wins by modifiedTime, hard deletes, checkpoints committed in the same
/// transaction as the rows, and the bookkeeping tables (_desksync_state, _desksync_tables,
/// _desksync_columns — the latter maps each column to the Zoho field and label it holds).
/// Every identifier is quoted; values only ever travel as parameters.
/// </summary>
public abstract class SqlSink(SinkMode mode, TimeProvider? time) : ISink
{
    private readonly Dictionary<string, TableLayout> _layouts = new(StringComparer.Ordinal);
    private DbConnection? _connection;

    public SinkMode Mode { get; } = mode;

    protected TimeProvider Time { get; } = time ?? TimeProvider.System;

    protected DbConnection Connection => _connection ?? throw new InvalidOperationException("InitializeAsync first.");

    public abstract string Describe();

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public virtual async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            return;
        }

        _connection = await OpenAsync(cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_state")} (stream TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at {SqlType(ColumnType.Timestamp)} NOT NULL)", null, cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_tables")} (table_name TEXT PRIMARY KEY, mode TEXT NOT NULL)", null, cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_columns")} (table_name TEXT NOT NULL, column_name TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, is_custom_field {SqlType(ColumnType.Boolean)} NOT NULL, label TEXT, zoho_type TEXT, PRIMARY KEY (table_name, column_name))", null, cancellationToken);
    }

    public async Task EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken)
    {
        var layout = TableLayout.For(schema, Mode, Time);
        await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
        var existingMode = await ScalarAsync($"SELECT mode FROM {Table("_desksync_tables")} WHERE table_name = @p0", tx, cancellationToken, schema.Name);
        if (existingMode is string m && !string.Equals(m, Mode.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            throw new SinkException($"Table {schema.Name} already holds {m.ToLowerInvariant()}-mode data; this sync is in {Mode.ToString().ToLowerInvariant()} mode. Use another target (or schema), or drop the table to change modes.");
        }

        var existing = await ExistingColumnsAsync(schema.Name, tx, cancellationToken);
        if (existing.Count == 0)
        {
            var columns = string.Join(", ", layout.Columns.Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}{(c.Name == TableSchema.KeyColumn ? " PRIMARY KEY" : "")}"));
            await ExecuteAsync($"CREATE TABLE {Table(schema.Name)} ({columns})", tx, cancellationToken);
        }
        else
        {
            foreach (var column in layout.Columns.Where(c => !existing.Contains(c.Name)))
            {
                // New custom fields become new columns; nothing is ever dropped.
                await ExecuteAsync($"ALTER TABLE {Table(schema.Name)} ADD COLUMN {Quote(column.Name)} {SqlType(column.Type)}", tx, cancellationToken);
            }
        }

        await ExecuteAsync(Upsert("_desksync_tables", ["table_name", "mode"], "table_name"), tx, cancellationToken, schema.Name, Mode.ToString().ToLowerInvariant());
        if (Mode == SinkMode.Flat)
        {
            foreach (var c in schema.Columns)
            {
                await ExecuteAsync(Upsert("_desksync_columns", ["table_name", "column_name", "source", "type", "is_custom_field", "label", "zoho_type"], "table_name, column_name"), tx, cancellationToken,
                    schema.Name, c.Name, c.SourcePath, c.Type.ToString().ToLowerInvariant(), ToDb(ColumnType.Boolean, c.IsCustomField), c.Label, c.ZohoType);
            }
        }

        await tx.CommitAsync(cancellationToken);
        _layouts[schema.Name] = layout;
    }

    public async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        if (!_layouts.TryGetValue(schema.Name, out var layout))
        {
            await EnsureTableAsync(schema, cancellationToken);
            layout = _layouts[schema.Name];
        }

        try
        {
            await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
            var newest = events.NewestPerKey();
            var upserts = newest.Where(e => e.Op != ChangeOp.Delete && e.Record is not null).ToList();
            var deletes = newest.Where(e => e.Op == ChangeOp.Delete).ToList();
            if (upserts.Count > 0)
            {
                await WriteRowsAsync(layout, UpsertSql(layout), upserts, tx, cancellationToken);
            }

            foreach (var d in deletes)
            {
                await ExecuteAsync($"DELETE FROM {Table(schema.Name)} WHERE {Quote(TableSchema.KeyColumn)} = @p0", tx, cancellationToken, d.Key);
            }

            if (checkpoint is not null)
            {
                await SaveCheckpointAsync(checkpoint, tx, cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }
        catch (DbException ex)
        {
            throw new SinkException($"{Describe()} refused a write to {schema.Name}: {ex.Message}. Nothing of this batch was committed; fix the target and run again to continue from the last checkpoint.", ex);
        }
    }

    public async Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken) =>
        await ScalarAsync($"SELECT state FROM {Table("_desksync_state")} WHERE stream = @p0", null, cancellationToken, stream) is string s
            ? new Checkpoint(stream, s)
            : null;

    public async Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
        await SaveCheckpointAsync(checkpoint, tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        GC.SuppressFinalize(this);
    }

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    protected abstract string SqlType(ColumnType type);

    /// <summary>The value as the provider wants it; DBNull for null.</summary>
    protected abstract object ToDb(ColumnType type, object? value);

    protected virtual void Configure(DbParameter parameter, ColumnType type)
    {
    }

    protected abstract Task<HashSet<string>> ExistingColumnsAsync(string table, DbTransaction tx, CancellationToken cancellationToken);

    /// <summary>The placeholder of the i-th value in the row upsert.</summary>
    protected virtual string RowPlaceholder(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The (schema-qualified) quoted table name.</summary>
    protected virtual string Table(string name) => Quote(name);

    /// <summary>Writes the rows with the upsert statement; providers batch as they can.</summary>
    protected virtual async Task WriteRowsAsync(TableLayout layout, string sql, IReadOnlyList<ChangeEvent> rows, DbTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = Connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        var parameters = layout.Columns.Select((c, i) =>
        {
            var p = command.CreateParameter();
            p.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            Configure(p, c.Type);
            command.Parameters.Add(p);
            return p;
        }).ToArray();
        await command.PrepareAsync(cancellationToken);
        foreach (var row in rows)
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                parameters[i].Value = ToDb(layout.Columns[i].Type, layout.Columns[i].Value(row));
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>INSERT … ON CONFLICT (id) DO UPDATE … WHERE the incoming row is not older than the stored one.</summary>
    protected string UpsertSql(TableLayout layout)
    {
        var table = Table(layout.Schema.Name);
        var names = layout.Columns.Select(c => Quote(c.Name)).ToList();
        var sb = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"INSERT INTO {table} ({string.Join(", ", names)}) VALUES (")
            .Append(string.Join(", ", layout.Columns.Select((_, i) => RowPlaceholder(i))))
            .Append(CultureInfo.InvariantCulture, $") ON CONFLICT ({Quote(TableSchema.KeyColumn)}) DO UPDATE SET ")
            .Append(string.Join(", ", names.Where(n => n != Quote(TableSchema.KeyColumn)).Select(n => $"{n} = excluded.{n}")));
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

    private DbCommand Command(string sql, DbTransaction? tx, object?[] values)
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

    private Task SaveCheckpointAsync(Checkpoint checkpoint, DbTransaction tx, CancellationToken cancellationToken) =>
        ExecuteAsync(Upsert("_desksync_state", ["stream", "state", "updated_at"], "stream"), tx, cancellationToken,
            checkpoint.Stream, checkpoint.State, ToDb(ColumnType.Timestamp, Time.GetUtcNow()));

    private string Upsert(string table, string[] columns, string key) =>
        $"INSERT INTO {Table(table)} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i.ToString(CultureInfo.InvariantCulture)))}) "
        + $"ON CONFLICT ({key}) DO UPDATE SET {string.Join(", ", columns.Where(c => !key.Contains(c, StringComparison.Ordinal)).Select(c => $"{c} = excluded.{c}"))}";
}
