using System.Buffers;
using System.Data.Common;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using Npgsql;
using NpgsqlTypes;

namespace DeskSync.Sinks.Postgres;

/// <summary>
/// PostgreSQL: TEXT, BIGINT, NUMERIC, BOOLEAN, TIMESTAMPTZ, DATE and JSONB, in a schema of the
/// user's choice (default "public"). A batch goes to the server in one round trip (NpgsqlBatch).
/// JSONB columns that DeskSync creates are compressed with LZ4 where the server has it
/// (PostgreSQL 14 and later, built with LZ4, as Debian's and the official images are): a whole
/// ticket is a few KB, above the size at which PostgreSQL compresses a value, and pglz, the
/// server's default, is the slower of the two.
/// </summary>
public sealed class PostgresSink(string connectionString, SinkMode mode, string schema = "public", TimeProvider? time = null) : SqlSink(mode, time)
{
    private readonly string _connectionString = connectionString;

    /// <summary>Whether the server compresses with LZ4 (PostgreSQL 14+ built with it); known once connected.</summary>
    private bool _lz4;

    public string SchemaName { get; } = schema;

    public override string Describe()
    {
        // Never the password: host, port, database and schema only.
        var b = new NpgsqlConnectionStringBuilder(_connectionString);
        return $"PostgreSQL {b.Host}:{b.Port}/{b.Database} schema {SchemaName}";
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE SCHEMA IF NOT EXISTS {Quote(SchemaName)}";
            await command.ExecuteNonQueryAsync(cancellationToken);
            // No row before PostgreSQL 14 (no per-column compression); no 'lz4' where the server was built without it.
            command.CommandText = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'";
            _lz4 = await command.ExecuteScalarAsync(cancellationToken) is true;
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException)
        {
            await connection.DisposeAsync();
            throw new SinkException($"Cannot connect to {Describe()}: {ex.Message.TrimEnd('.')}. Check that the server runs and the connection string.", ex, retryable: true);
        }

        return connection;
    }

    /// <summary>Batch commands take positional parameters.</summary>
    protected override string RowPlaceholder(int index) => "$" + (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    protected override string RowLock(bool exclusive) => exclusive ? " FOR UPDATE" : " FOR SHARE";

    protected override string Table(string name) => $"{Quote(SchemaName)}.{Quote(name)}";

    protected override string SqlType(ColumnType type) => type switch
    {
        ColumnType.Integer => "BIGINT",
        ColumnType.Decimal => "NUMERIC",
        ColumnType.Boolean => "BOOLEAN",
        ColumnType.Timestamp => "TIMESTAMPTZ",
        ColumnType.Date => "DATE",
        ColumnType.Json => _lz4 ? "JSONB COMPRESSION lz4" : "JSONB",
        _ => "TEXT",
    };

    protected override object ToDb(ColumnType type, object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset t => t.ToUniversalTime(),
        // JSONB and TEXT refuse the NUL character: Zoho text is not expected to hold one, but never fail on it.
        string s when s.Contains('\0', StringComparison.Ordinal) => type == ColumnType.Json ? s.Replace("\\u0000", "", StringComparison.Ordinal) : s.Replace("\0", "", StringComparison.Ordinal),
        string s when type == ColumnType.Json && s.Contains("\\u0000", StringComparison.Ordinal) => s.Replace("\\u0000", "", StringComparison.Ordinal),
        _ => value,
    };

    protected override void Configure(DbParameter parameter, ColumnType type)
    {
        ((NpgsqlParameter)parameter).NpgsqlDbType = DbType(type);
    }

    private static NpgsqlDbType DbType(ColumnType type) => type switch
    {
        ColumnType.Integer => NpgsqlDbType.Bigint,
        ColumnType.Decimal => NpgsqlDbType.Numeric,
        ColumnType.Boolean => NpgsqlDbType.Boolean,
        ColumnType.Timestamp => NpgsqlDbType.TimestampTz,
        ColumnType.Date => NpgsqlDbType.Date,
        ColumnType.Json => NpgsqlDbType.Jsonb,
        _ => NpgsqlDbType.Text,
    };

    /// <summary>Batches at least this large go through COPY; smaller ones (webhook events) as one NpgsqlBatch.</summary>
    private const int CopyThreshold = 16;

    protected override async Task WriteRowsAsync(TableLayout layout, string sql, IReadOnlyList<ChangeEvent> rows, DateTimeOffset syncedAt, DbTransaction tx, CancellationToken cancellationToken)
    {
        if (rows.Count >= CopyThreshold)
        {
            await CopyRowsAsync(layout, rows, syncedAt, (NpgsqlTransaction)tx, cancellationToken);
            return;
        }

        var connection = (NpgsqlConnection)Connection;
        await using var batch = new NpgsqlBatch(connection, (NpgsqlTransaction)tx);
        var types = layout.Columns.Select(c => DbType(c.Type)).ToArray();
        foreach (var e in rows)
        {
            var command = new NpgsqlBatchCommand(sql);
            var values = RowValues(layout, e, syncedAt);
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = types[i], Value = values[i] });
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Binary COPY into a session-private staging table, then one INSERT … SELECT … ON CONFLICT
    /// with the same last-writer-wins rule as the row path: the server parses and plans one
    /// statement per batch instead of one per row. The staging table is named after the layout's
    /// columns, so that a column added later gets a new one.
    /// </summary>
    private async Task CopyRowsAsync(TableLayout layout, IReadOnlyList<ChangeEvent> rows, DateTimeOffset syncedAt, NpgsqlTransaction tx, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)Connection;
        var columns = string.Join(", ", layout.Columns.Select(c => Quote(c.Name)));
        var hash = System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(SchemaName + "\0" + layout.Schema.Name + "\0" + columns));
        var staging = Quote("_desksync_stage_" + hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
        await using (var prepare = new NpgsqlCommand(
            $"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {Table(layout.Schema.Name)} INCLUDING DEFAULTS{(_lz4 ? " INCLUDING COMPRESSION" : "")}) ON COMMIT DELETE ROWS; TRUNCATE {staging}", connection, tx))
        {
            await prepare.ExecuteNonQueryAsync(ct);
        }

        var types = layout.Columns.Select(c => DbType(c.Type)).ToArray();
        var record = layout.Columns.ToList().FindIndex(c => c.Source == ColumnSource.Record);
        await using (var import = await connection.BeginBinaryImportAsync($"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var e in rows)
            {
                await import.StartRowAsync(ct);
                var (buffer, length) = record >= 0 ? RecordBytes(e) : (null, 0);
                try
                {
                    var values = RowValues(layout, e, syncedAt, withRecord: buffer is null);
                    for (var i = 0; i < values.Length; i++)
                    {
                        if (i == record && buffer is not null)
                        {
                            await import.WriteAsync(new ReadOnlyMemory<byte>(buffer, 0, length), NpgsqlDbType.Jsonb, ct);
                        }
                        else if (values[i] is DBNull)
                        {
                            await import.WriteNullAsync(ct);
                        }
                        else
                        {
                            await import.WriteAsync(values[i], types[i], ct);
                        }
                    }
                }
                finally
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }

            await import.CompleteAsync(ct);
        }

        await using var upsert = new NpgsqlCommand(UpsertSql(layout, staging), connection, tx);
        await upsert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The record as the UTF-8 Zoho sent, in a pooled buffer, for COPY to send as it is: no string
    /// made of it (twice its size: 6–7 KB for a ticket) and encoded back. Null when it must go
    /// through a string, which <see cref="ToDb"/> cleans: not valid UTF-8, or holding a \u0000,
    /// which JSONB refuses.
    /// </summary>
    private static (byte[]? Buffer, int Length) RecordBytes(ChangeEvent e)
    {
        if (e.Record is not { } record)
        {
            return (null, 0);
        }

        var text = JsonMarshal.GetRawUtf8Value(record);
        if (!Utf8.IsValid(text) || text.IndexOf(@"\u0000"u8) >= 0)
        {
            return (null, 0);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(text.Length);
        text.CopyTo(buffer);
        return (buffer, text.Length);
    }

    protected override async Task<HashSet<string>> ExistingColumnsAsync(string table, DbTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT column_name FROM information_schema.columns WHERE table_schema = @s AND table_name = @t", (NpgsqlConnection)Connection, (NpgsqlTransaction)tx);
        command.Parameters.AddWithValue("s", SchemaName);
        command.Parameters.AddWithValue("t", table);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
