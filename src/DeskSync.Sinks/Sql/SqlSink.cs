using System.Data.Common;
using System.Globalization;
using DeskSync.Core;

namespace DeskSync.Sinks.Sql;

/// <summary>
/// What the SQLite and PostgreSQL sinks share: the layout per mode, idempotent upserts with
/// last-writer-wins by modifiedTime, hard deletes, checkpoints committed in the same
/// transaction as the rows, and the bookkeeping tables (_desksync_state, _desksync_tables, _desksync_fence,
/// _desksync_columns — the latter maps each column to the Zoho field and label it holds).
/// Every identifier is quoted; values only ever travel as parameters.
/// </summary>
public abstract partial class SqlSink(SinkMode mode, TimeProvider? time) : ISink
{
    private readonly Dictionary<string, TableLayout> _layouts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tablesWithTombstones = new(StringComparer.Ordinal);
    private DbConnection? _connection;
    private bool _initialized;

    public SinkMode Mode { get; } = mode;

    /// <summary>
    /// Flat mode: whether tables it creates get _raw, the whole record as JSON (default). Without it
    /// a row is its columns only: half the bytes, a faster load, but a field Zoho adds that no
    /// column reads is not kept. A table that already has _raw keeps being given it.
    /// </summary>
    public bool RawColumn { get; init; } = true;

    /// <summary>Only reads (`status`): nothing is created or changed, and the file or database may be read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Hard (remove the row, default) or soft (keep it with _deleted_at).</summary>
    public DeleteMode DeleteMode { get; set; } = DeleteMode.Hard;

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
        _initialized = true;
        try
        {
            if (!ReadOnly)
            {
                await CreateBookkeepingTablesAsync(cancellationToken);
            }
        }
        catch (DbException ex)
        {
            // Not initialized: the next call opens and tries again (a read-only or restarting server heals).
            var connection = _connection;
            (_connection, _initialized) = (null, false);
            await connection.DisposeAsync();
            throw new SinkException($"{Describe()} could not prepare its bookkeeping tables: {ex.Message.TrimEnd('.')}. Nothing was committed; fix the target and run again to continue from the last checkpoint.", ex, retryable: true);
        }
    }

    private async Task CreateBookkeepingTablesAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_state")} (stream TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at {SqlType(ColumnType.Timestamp)} NOT NULL)", null, cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_tables")} (table_name TEXT PRIMARY KEY, mode TEXT NOT NULL)", null, cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_tombstones")} (table_name TEXT NOT NULL, id TEXT NOT NULL, deleted_at {SqlType(ColumnType.Timestamp)} NOT NULL, PRIMARY KEY (table_name, id))", null, cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_fence")} (lease TEXT PRIMARY KEY, epoch TEXT NOT NULL, term BIGINT NOT NULL, holder TEXT NOT NULL, claimed_at {SqlType(ColumnType.Timestamp)} NOT NULL)", null, cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table("_desksync_columns")} (table_name TEXT NOT NULL, column_name TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, is_custom_field {SqlType(ColumnType.Boolean)} NOT NULL, label TEXT, zoho_type TEXT, PRIMARY KEY (table_name, column_name))", null, cancellationToken);
    }

    public Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken) =>
        GuardAsync(() => EnsureTableCoreAsync(schema, cancellationToken), "could not prepare " + schema.Name, cancellationToken);

    private async Task<SchemaChanges> EnsureTableCoreAsync(TableSchema schema, CancellationToken cancellationToken)
    {
        await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
        var (schemaToWrite, typeChanges) = await KeepStoredTypesAsync(schema, tx, cancellationToken);
        schema = schemaToWrite;
        var added = new List<string>();
        var existingMode = await ScalarAsync($"SELECT mode FROM {Table("_desksync_tables")} WHERE table_name = @p0", tx, cancellationToken, schema.Name);
        if (existingMode is string m && !string.Equals(m, Mode.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            throw new SinkException($"Table {schema.Name} already holds {m.ToLowerInvariant()}-mode data; this sync is in {Mode.ToString().ToLowerInvariant()} mode. Use another target (or schema), or drop the table to change modes.");
        }

        var existing = await ExistingColumnsAsync(schema.Name, tx, cancellationToken);
        var layout = TableLayout.For(schema, Mode, raw: RawColumn || existing.Contains(TableLayout.Raw));
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
                added.Add(column.Name);
            }
        }

        if (layout.ParentColumn is { } parent)
        {
            // A ticket's children are found by it: joins, cascades and each re-read's deletes.
            await ExecuteAsync($"CREATE INDEX IF NOT EXISTS {Quote(schema.Name + "_" + parent)} ON {Table(schema.Name)} ({Quote(parent)})", tx, cancellationToken);
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

        if (await ScalarAsync($"SELECT 1 FROM {Table("_desksync_tombstones")} WHERE table_name = @p0 LIMIT 1", tx, cancellationToken, schema.Name) is not null)
        {
            _tablesWithTombstones.Add(schema.Name);
        }

        await tx.CommitAsync(cancellationToken);
        _layouts[schema.Name] = layout;
        return new SchemaChanges(added, typeChanges);
    }

    public async Task<IReadOnlyCollection<string>?> ChildKeysAsync(TableSchema schema, string parentId, CancellationToken cancellationToken)
    {
        if (schema.ParentColumn is not { } parent)
        {
            return null;
        }

        if (!_layouts.ContainsKey(schema.Name))
        {
            await EnsureTableAsync(schema, cancellationToken);
        }

        return await GuardAsync<IReadOnlyCollection<string>?>(async () => (await KeysAsync(
            $"SELECT {Quote(TableSchema.KeyColumn)} FROM {Table(schema.Name)} WHERE {Quote(parent.Name)} = @p0 AND {Quote(TableLayout.DeletedAt)} IS NULL", null, cancellationToken, parentId))
            .ToHashSet(StringComparer.Ordinal), "could not list the rows of " + schema.Name, cancellationToken);
    }

    public Task<IReadOnlyList<string>> KeysWrittenBeforeAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken) =>
        GuardAsync(() => KeysWrittenBeforeCoreAsync(table, writtenBefore, cancellationToken), "could not list the keys of " + table, cancellationToken);

    private async Task<IReadOnlyList<string>> KeysWrittenBeforeCoreAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        await using var command = Connection.CreateCommand();
        command.CommandText = $"SELECT {Quote(TableSchema.KeyColumn)} FROM {Table(table)} WHERE {Quote(TableLayout.SyncedAt)} < @p0 AND {Quote(TableLayout.DeletedAt)} IS NULL";
        var p = command.CreateParameter();
        p.ParameterName = "@p0";
        p.Value = ToDb(ColumnType.Timestamp, writtenBefore);
        Configure(p, ColumnType.Timestamp);
        command.Parameters.Add(p);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <summary>A column keeps the type it was created with; a Zoho type change is reported, not applied.</summary>
    private async Task<(TableSchema Schema, List<string> Changes)> KeepStoredTypesAsync(TableSchema schema, DbTransaction tx, CancellationToken ct)
    {
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var command = Connection.CreateCommand())
        {
            command.Transaction = tx;
            command.CommandText = $"SELECT column_name, type FROM {Table("_desksync_columns")} WHERE table_name = @p0";
            var p = command.CreateParameter();
            p.ParameterName = "@p0";
            p.Value = schema.Name;
            command.Parameters.Add(p);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                stored[reader.GetString(0)] = reader.GetString(1);
            }
        }

        var changes = new List<string>();
        var columns = schema.Columns.Select(c =>
        {
            if (stored.TryGetValue(c.Name, out var was) && !string.Equals(was, c.Type.ToString(), StringComparison.OrdinalIgnoreCase)
                && Enum.TryParse<ColumnType>(was, ignoreCase: true, out var old))
            {
                changes.Add($"{schema.Name}.{c.Name} ({c.Label ?? c.SourcePath}) is now {c.Type.ToString().ToLowerInvariant()} in Zoho; the column stays {was} (values that do not fit are NULL there and kept in the raw record)");
                return c with { Type = old };
            }

            return c;
        }).ToList();
        return (schema with { Columns = columns }, changes);
    }

    public async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        if (!_layouts.TryGetValue(schema.Name, out var layout))
        {
            await EnsureTableAsync(schema, cancellationToken);
            layout = _layouts[schema.Name];
        }

        await GuardAsync(async () =>
        {
            await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
            await CheckFenceAsync(tx, cancellationToken);
            if (events.All(e => e.Op != ChangeOp.Delete && !e.IsPartial))
            {
                await UpsertAsync(layout, events, tx, cancellationToken); // the full-load fast path
            }
            else
            {
                // Webhook events: in order, so that a partial update merges into what came before it.
                var run = new List<ChangeEvent>();
                foreach (var e in events)
                {
                    if (e.Op == ChangeOp.Delete || e.IsPartial)
                    {
                        await UpsertAsync(layout, run, tx, cancellationToken);
                        run.Clear();
                        if (e is { Op: ChangeOp.Delete, Scope: { } scope })
                        {
                            await DeleteChildrenAsync(layout, e, scope, tx, cancellationToken);
                        }
                        else if (e.Op == ChangeOp.Delete)
                        {
                            await DeleteAsync(layout, e, tx, cancellationToken);
                        }
                        else
                        {
                            await MergeAsync(layout, e, tx, cancellationToken);
                        }
                    }
                    else
                    {
                        run.Add(e);
                    }
                }

                await UpsertAsync(layout, run, tx, cancellationToken);
            }

            if (checkpoint is not null)
            {
                await SaveCheckpointAsync(checkpoint, tx, cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
            Committed();
            return true;
        }, $"refused a write to {schema.Name}", cancellationToken);
    }

    /// <summary>Called after each committed batch (for a provider's upkeep, such as SQLite's WAL checkpoints).</summary>
    protected virtual void Committed()
    {
    }

    /// <summary>Called first when the sink is disposed, before its connection is closed.</summary>
    protected virtual ValueTask CloseAsync() => ValueTask.CompletedTask;

    public Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken) =>
        GuardAsync(async () => await ScalarAsync($"SELECT state FROM {Table("_desksync_state")} WHERE stream = @p0", null, cancellationToken, stream) is string s
            ? new Checkpoint(stream, s)
            : null, "could not read the checkpoint of " + stream, cancellationToken);

    public Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            await using var tx = await Connection.BeginTransactionAsync(cancellationToken);
            await CheckFenceAsync(tx, cancellationToken);
            await SaveCheckpointAsync(checkpoint, tx, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return true;
        }, "could not save the checkpoint of " + checkpoint.Stream, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> on an open connection: one that broke (the server restarted)
    /// is replaced first, and a database error becomes a retryable <see cref="SinkException"/>.
    /// </summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> work, string failed, CancellationToken cancellationToken)
    {
        try
        {
            await ReconnectIfBrokenAsync(cancellationToken);
            return await work();
        }
        catch (DbException ex)
        {
            // A server that went away mid-answer (a restart, a failover) is named as such, not by the driver's stream error.
            var cause = ex.InnerException is IOException ? $"the connection to the server was lost ({ex.Message.TrimEnd('.')})" : ex.Message.TrimEnd('.');
            throw new SinkException($"{Describe()} {failed}: {cause}. Nothing was committed; fix the target and run again to continue from the last checkpoint.", ex, retryable: true);
        }
    }

    /// <summary>A connection the server dropped (a restart, a failover) is replaced by a new one.</summary>
    private async Task ReconnectIfBrokenAsync(CancellationToken cancellationToken)
    {
        if (_initialized && _connection is not { State: System.Data.ConnectionState.Open })
        {
            if (_connection is { } broken)
            {
                _connection = null;
                await broken.DisposeAsync();
            }

            _connection = await OpenAsync(cancellationToken); // a SinkException (retryable) while the server is away
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _initialized = false;
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        GC.SuppressFinalize(this);
    }

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A column's type as a table definition gives it (CREATE TABLE, ADD COLUMN).</summary>
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

    /// <summary>Writes the rows with the upsert statement (or an equivalent); providers batch as they can.</summary>
    /// <param name="syncedAt">The batch's write time, for _synced_at.</param>
    protected abstract Task WriteRowsAsync(TableLayout layout, string sql, IReadOnlyList<ChangeEvent> rows, DateTimeOffset syncedAt, DbTransaction tx, CancellationToken cancellationToken);

    private Task SaveCheckpointAsync(Checkpoint checkpoint, DbTransaction tx, CancellationToken cancellationToken) =>
        ExecuteAsync(Upsert("_desksync_state", ["stream", "state", "updated_at"], "stream"), tx, cancellationToken,
            checkpoint.Stream, checkpoint.State, ToDb(ColumnType.Timestamp, Time.GetUtcNow()));
}
