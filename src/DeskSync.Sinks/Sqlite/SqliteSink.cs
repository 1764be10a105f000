using System.Data.Common;
using System.Globalization;
using DeskSync.Core;
using DeskSync.Core.Files;
using DeskSync.Sinks.Sql;
using Microsoft.Data.Sqlite;

namespace DeskSync.Sinks.Sqlite;

/// <summary>
/// SQLite, the embedded default: one file, WAL journal. Types: TEXT, INTEGER, NUMERIC, booleans
/// as 0/1, times as ISO-8601 UTC text with milliseconds (sorts like time), JSON as text
/// (query it with json_extract).
/// </summary>
public sealed partial class SqliteSink(string path, SinkMode mode, TimeProvider? time = null) : SqlSink(mode, time)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public override string Describe() => $"SQLite {Path}";

    /// <summary>For reading only: the file is not created, its mode not touched, and no pragma writes.</summary>
    private async Task<DbConnection> OpenReadOnlyAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            throw new SinkException($"{Describe()} does not exist yet: nothing was loaded into it (run `desksync sync`).") { Missing = true };
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA busy_timeout=" + BusyTimeoutMs;
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync();
            throw new SinkException($"{Describe()} cannot be read: {ex.Message.TrimEnd('.')}.", ex);
        }
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (ReadOnly)
        {
            return await OpenReadOnlyAsync(cancellationToken);
        }

        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            OwnerOnly.CreateFolder(directory);
        }

        // Customer data: the file is made owner-only before SQLite opens it, and SQLite gives its
        // -wal and -shm files the database file's mode.
        OwnerOnly.Touch(Path);
        foreach (var companion in new[] { Path + "-wal", Path + "-shm" }.Where(File.Exists))
        {
            OwnerOnly.Check(companion, isFolder: false);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            // Page size: a new file's only (SQLite keeps an existing file's), so it comes first.
            // WAL: readers do not block the writer; NORMAL: a commit may be lost on power failure,
            // but never half of one — rows and their checkpoint go together. WAL checkpoints run on
            // a connection of their own (see Committed), not inside the writer's commits.
            pragma.CommandText = "PRAGMA page_size=" + NewFilePageSize + "; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=" + BusyTimeoutMs + "; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-16384;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            pragma.CommandText = "PRAGMA page_size";
            _frameBytes = Convert.ToInt64(await pragma.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) + WalFrameHeaderBytes;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync();
            throw new SinkException($"Cannot open the SQLite file {Path}: {ex.Message.TrimEnd('.')}. Check the path and its permissions.", ex, retryable: true);
        }

        return connection;
    }

    /// <summary>
    /// The page size of a file this sink creates: 16 KB, not SQLite's 4 KB. A Zoho record is a few
    /// KB of JSON, so with 4 KB pages nearly every row fills a page of its own (or spills onto
    /// overflow pages), and each page is a WAL frame written, checksummed and later copied on its
    /// own, which keeps the write stage in the kernel. Larger pages make the stage markedly cheaper
    /// a ticket; the price is that a one-row commit (a webhook's change) writes a few 16 KB frames
    /// instead of 4 KB ones. A file that exists keeps its own page size.
    /// </summary>
    internal int NewFilePageSize { get; init; } = 16384;

    private static void Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        command.ExecuteNonQuery();
    }

    /// <summary>How long the writer waits for a lock another program holds on the file.</summary>
    private const int BusyTimeoutMs = 10_000;

    protected override async ValueTask CloseAsync()
    {
        if (_checkpointer is { } running)
        {
            await _stopCheckpointer!.CancelAsync();
            await running;
            _stopCheckpointer.Dispose();
            _checkpointer = null;
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
