using System.Data.Common;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using DeskSync.Core;
using DeskSync.Core.Files;
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

    /// <summary>Past this size the writer checkpoints the WAL itself and starts it over, whatever the checkpointer does.</summary>
    internal long WalLimit { get; init; } = 256L << 20;

    /// <summary>Past this many bytes of frames, the checkpointer asks the writer to start the WAL over.</summary>
    internal long WalRestartBytes { get; init; } = DefaultWalRestartBytes;

    internal const long DefaultWalRestartBytes = 64L << 20;

    /// <summary>How long the background checkpointer lets commits gather before it checkpoints them.</summary>
    internal TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>WAL restarts the writer made at the checkpointer's request (cheap), and at its own limit (a long stall) or a small disk's (the WAL emptied, or tried).</summary>
    internal (int Requested, int Forced) WalRestarts => (_requestedRestarts, _forcedRestarts);

    private readonly SemaphoreSlim _wakeCheckpointer = new(0, 1);
    private readonly SemaphoreSlim _restarted = new(0, 1);
    private readonly SemaphoreSlim _checkpointing = new(1, 1); // a background round, or the writer emptying the WAL
    private CancellationTokenSource? _stopCheckpointer;
    private Task? _checkpointer;
    private volatile bool _restartWanted;
    private int _requestedRestarts;
    private int _forcedRestarts;
    private long _truncateAgainAt;

    /// <summary>
    /// WAL checkpoints (copying committed pages into the database file, then two fsyncs) run on a
    /// second connection on another thread, not inside the writer's commits. While the writer
    /// keeps committing, the checkpointer runs one passive checkpoint after the other, so that
    /// the frames left to copy are only those of its last round. A WAL only starts over when a
    /// write begins with every frame copied, which a writer that never pauses never gives it: so
    /// once the WAL holds 64 MB of frames, the checkpointer, at the end of a round, asks the writer
    /// to start it over; the writer does (between two commits: a short RESTART checkpoint of the
    /// last round's frames) and the WAL file is cut back to 64 MB. The writer also checkpoints
    /// itself if the WAL file reaches 256 MB anyway. Durability is unchanged: a commit is in the WAL.
    /// </summary>
    protected override void Committed()
    {
        if (_checkpointer is null)
        {
            _stopCheckpointer = new CancellationTokenSource();
            _checkpointer = Task.Run(() => CheckpointLoopAsync(_stopCheckpointer.Token));
        }

        if (_restartWanted)
        {
            // RESTART also waits for readers to leave the WAL: a reader that stays (a long query
            // in another program) must not hold the writer for the usual 10 s; if it stays, the WAL
            // is not started over this time, and the checkpointer asks again later.
            _restartWanted = false;
            CheckpointBriefly((SqliteConnection)Connection, "RESTART");
            _requestedRestarts++;
            try
            {
                _restarted.Release();
            }
            catch (SemaphoreFullException)
            {
                // the checkpointer stopped waiting and has not asked again
            }

            return;
        }

        if (WalFileBytes() is not { } wal)
        {
            return;
        }

        if (wal >= WalLimit)
        {
            Checkpoint((SqliteConnection)Connection, "RESTART");
            _forcedRestarts++;
        }
        else if (wal >= _truncateAgainAt && wal >= WalRoom(wal) / 2)
        {
            // A small or nearly full disk (see WalRoom): the WAL file is emptied, not only started
            // over, so that its bytes go back to the disk and its size says again what it holds.
            // The background checkpointer's own round is waited out first, so that only a reader in
            // another program can make this fail; that reader gets 100 ms, not every commit's
            // time: the WAL is tried again once it has grown by a quarter.
            _checkpointing.Wait();
            try
            {
                CheckpointBriefly((SqliteConnection)Connection, "TRUNCATE");
            }
            finally
            {
                _checkpointing.Release();
            }

            _forcedRestarts++;
            _truncateAgainAt = WalFileBytes() >= wal ? wal + (wal / 4) : 0;
        }
        else if (_wakeCheckpointer.CurrentCount == 0)
        {
            try
            {
                _wakeCheckpointer.Release();
            }
            catch (SemaphoreFullException)
            {
                // already woken
            }
        }
    }

    private async Task CheckpointLoopAsync(CancellationToken stop)
    {
        SqliteConnection? connection = null;
        try
        {
            long copied = 0;
            long? restartedAt = null;
            var busy = false;
            while (true)
            {
                if (!busy)
                {
                    await _wakeCheckpointer.WaitAsync(stop);
                    await Task.Delay(CheckpointInterval, stop); // one checkpoint (two fsyncs) for the commits of a quarter second
                }

                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
                        connection.Open();
                    }
                }
                catch (SqliteException)
                {
                    connection?.Dispose(); // a full disk, say: the writer reports its own errors, and its next commit wakes this loop again
                    connection = null;
                    busy = false;
                    continue;
                }

                (long Frames, long Copied)? round;
                _checkpointing.Wait(stop);
                try
                {
                    round = Checkpoint(connection, "PASSIVE");
                }
                finally
                {
                    _checkpointing.Release();
                }

                if (round is not { } result)
                {
                    connection.Dispose();
                    connection = null;
                    busy = false;
                    continue;
                }

                // Frames copied this round (fewer in the WAL than before: it started over). A
                // writer that gave this round a megabyte or more is kept pace with; a trickle of
                // small commits shares one checkpoint a quarter second.
                var fresh = result.Copied >= copied ? result.Copied - copied : result.Copied;
                copied = result.Copied;
                busy = fresh * _frameBytes >= 1 << 20;
                if (restartedAt is { } frames)
                {
                    // A restart takes effect with the writer's next commit; until then the WAL looks as
                    // full as before. One that did not take (a reader held the WAL) is asked again
                    // once the WAL has grown as much again.
                    restartedAt = result.Frames < frames || result.Frames >= 2 * frames ? null : frames;
                }
                else if (result.Frames * _frameBytes >= Math.Min(WalRestartBytes, WalRoom(WalFileBytes() ?? 0) / 4) && result.Copied == result.Frames)
                {
                    _restartWanted = true;
                    if (await _restarted.WaitAsync(TimeSpan.FromSeconds(1), stop))
                    {
                        restartedAt = result.Frames;
                    }
                    else
                    {
                        _restartWanted = false; // the writer has stopped; its next commits will ask again
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>
    /// The space the WAL could take: its own bytes and what is free on its file system. On a
    /// small or nearly full disk the WAL is started over at a quarter of it (the checkpointer's
    /// request) or emptied at half (the writer's own limit) rather than at 64 and 256 MB: a WAL that took the
    /// last free byte would leave none for the checkpoint to grow the database file into, and
    /// could then never be copied or started over — every write would fail for good, though the
    /// data would fit. On any ordinary disk the fixed sizes come first.
    /// </summary>
    private long WalRoom(long wal)
    {
        try
        {
            return wal + new DriveInfo(System.IO.Path.GetDirectoryName(Path)!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue; // no figure: the fixed sizes decide
        }
    }

    /// <summary>The WAL file's size, or null when it cannot be read (not there yet).</summary>
    private long? WalFileBytes()
    {
        try
        {
            return new FileInfo(Path + "-wal").Length;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// A checkpoint that waits at most 100 ms for readers (a long query in another program) instead
    /// of the writer's usual 10 s: what it could not do this time is done later.
    /// </summary>
    private static void CheckpointBriefly(SqliteConnection connection, string mode)
    {
        Pragma(connection, "busy_timeout=100");
        Checkpoint(connection, mode);
        Pragma(connection, "busy_timeout=" + BusyTimeoutMs);
    }

    private static void Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        command.ExecuteNonQuery();
    }

    /// <summary>How long the writer waits for a lock another program holds on the file.</summary>
    private const int BusyTimeoutMs = 10_000;

    /// <summary>Each WAL frame's header, before its page.</summary>
    private const long WalFrameHeaderBytes = 24;

    /// <summary>A WAL frame of this file: its page size (read at open, before any commit) and the frame's header.</summary>
    private long _frameBytes;

    /// <summary>The bytes of a WAL frame the checkpointer counts with (the file's page size and a frame header).</summary>
    internal long WalFrameBytes => _frameBytes;

    /// <summary>
    /// A WAL checkpoint: the frames in the WAL and how many of them are now copied into the
    /// database, or null when SQLite refused it (it is upkeep: the data is safe in the WAL either way).
    /// </summary>
    private static (long Frames, long Copied)? Checkpoint(SqliteConnection connection, string mode)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA wal_checkpoint({mode})";
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(1), reader.GetInt64(2)) : (0, 0);
        }
        catch (SqliteException)
        {
            return null;
        }
    }

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
