using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Core.Files;
using DeskSync.Sinks.Sql;

namespace DeskSync.Sinks.Files;

public enum FileFormat
{
    Jsonl,
    Csv,
}

/// <summary>
/// JSONL or CSV files in a folder, one file per table, as an append-only change log: every
/// event is a line with its op ("r", "c", "u", "d"), the key, modifiedTime and the record
/// (JSONL: the whole record in document mode, the typed fields in flat mode; CSV: the flat
/// columns). A consumer takes the last line per id. Exactly once: after each batch the files
/// are flushed to disk and _desksync_state.json records their lengths with the checkpoints;
/// on start, anything written after the last recorded length (a batch cut by a crash) is cut off.
/// </summary>
public sealed class FileSink(string directory, FileFormat format, SinkMode mode, TimeProvider? time = null) : ISink
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, TableLayout> _layouts = new(StringComparer.Ordinal);
    private FileState _state = new();

    public SinkMode Mode { get; } = mode;

    /// <summary>Flat CSV: whether rows carry _raw, the whole record as JSON (default). Flat JSONL lines never do.</summary>
    public bool RawColumn { get; init; } = true;

    /// <summary>Only reads (`status`): the folder is not created and no file is cut back.</summary>
    public bool ReadOnly { get; init; }

    public string Directory { get; } = Path.GetFullPath(directory);

    private string StatePath => Path.Combine(Directory, "_desksync_state.json");

    public string Describe() => $"{format.ToString().ToUpperInvariant()} files in {Directory}";

    public string FileOf(string table) => Path.Combine(Directory, table + (format == FileFormat.Jsonl ? ".jsonl" : ".csv"));

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (ReadOnly)
        {
            _state = File.Exists(StatePath) ? JsonSerializer.Deserialize<FileState>(await File.ReadAllTextAsync(StatePath, cancellationToken), Json) ?? new FileState() : new FileState();
            return;
        }

        OwnerOnly.CreateFolder(Directory);
        if (File.Exists(StatePath))
        {
            _state = JsonSerializer.Deserialize<FileState>(await File.ReadAllTextAsync(StatePath, cancellationToken), Json) ?? new FileState();
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, format == FileFormat.Jsonl ? "*.jsonl" : "*.csv"))
        {
            var committed = _state.Lengths.GetValueOrDefault(Path.GetFileName(file));
            if (new FileInfo(file).Length > committed)
            {
                await using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
                stream.SetLength(committed); // drop the tail of a batch that was not committed
            }
        }
    }

    public Task<IReadOnlyList<string>> KeysWrittenBeforeAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Describe()} is a change log: deletes found by reconciliation cannot be checked against it. Use a database target for reconciliation.");

    public Task<IReadOnlyCollection<string>?> ChildKeysAsync(TableSchema schema, string parentId, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyCollection<string>?>(null);

    public Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken)
    {
        var layout = TableLayout.For(schema, Mode, RawColumn);
        if (format == FileFormat.Csv && File.Exists(FileOf(schema.Name)) && _state.Headers.TryGetValue(schema.Name, out var header)
            && header != CsvHeader(layout))
        {
            throw new SinkException($"{FileOf(schema.Name)} was written with other columns; move it away (or use another folder) to write the new columns.");
        }

        _layouts[schema.Name] = layout;
        return Task.FromResult(SchemaChanges.None);
    }

    public async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        if (!_layouts.TryGetValue(schema.Name, out var layout))
        {
            await EnsureTableAsync(schema, cancellationToken);
            layout = _layouts[schema.Name];
        }

        var path = FileOf(schema.Name);
        try
        {
            if (File.Exists(path))
            {
                OwnerOnly.Check(path, isFolder: false);
            }

            await using (var stream = new FileStream(path, OwnerOnly.NewFile(FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1 << 16)))
            await using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
            {
                // Lines of a batch that failed midway (a full disk) are cut before this one is written.
                var committed = _state.Lengths.GetValueOrDefault(Path.GetFileName(path));
                if (stream.Length > committed)
                {
                    stream.SetLength(committed);
                }

                stream.Seek(0, SeekOrigin.End);
                if (format == FileFormat.Csv && stream.Length == 0)
                {
                    await writer.WriteLineAsync(CsvHeader(layout));
                    _state.Headers[schema.Name] = CsvHeader(layout);
                }

                var syncedAt = _time.GetUtcNow();
                foreach (var e in events)
                {
                    await writer.WriteLineAsync(format == FileFormat.Jsonl ? JsonLine(layout, e, syncedAt) : CsvLine(layout, e, syncedAt));
                }

                await writer.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
                _state.Lengths[Path.GetFileName(path)] = stream.Length;
            }

            if (checkpoint is not null)
            {
                _state.Checkpoints[checkpoint.Stream] = checkpoint.State;
            }

            await SaveStateAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SinkException($"Cannot write {path}: {ex.Message.TrimEnd('.')}. Nothing after the last checkpoint counts as written; free space or fix permissions and run again.", ex, retryable: true);
        }
    }

    public Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken) =>
        Task.FromResult(_state.Checkpoints.TryGetValue(stream, out var s) ? new Checkpoint(stream, s) : null);

    public Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        _state.Checkpoints[checkpoint.Stream] = checkpoint.State;
        return SaveStateAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task SaveStateAsync(CancellationToken cancellationToken)
    {
        var temp = StatePath + ".tmp";
        await using (var stream = new FileStream(temp, OwnerOnly.NewFile(FileMode.Create, FileAccess.Write)))
        {
            await JsonSerializer.SerializeAsync(stream, _state, Json, cancellationToken);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, StatePath, overwrite: true);
    }

    private static string Op(ChangeOp op) => op switch
    {
        ChangeOp.Read => "r",
        ChangeOp.Create => "c",
        ChangeOp.Update => "u",
        _ => "d",
    };

    private static string JsonLine(TableLayout layout, ChangeEvent e, DateTimeOffset syncedAt)
    {
        if (e.Scope is { } scope)
        {
            // The children of a parent that are gone: those of `parent` not in `keep`.
            return new JsonObject
            {
                ["op"] = "dc",
                ["parent"] = e.Key,
                ["keep"] = new JsonArray([.. scope.Keep.Order(StringComparer.Ordinal).Select(k => (JsonNode)k)]),
                ["writtenBefore"] = scope.WrittenBefore is { } w ? ValueConverter.Iso(w) : null,
                ["modifiedTime"] = e.ModifiedTime is { } t ? ValueConverter.Iso(t) : null,
            }.ToJsonString();
        }

        var line = new JsonObject
        {
            ["op"] = Op(e.Op),
            ["id"] = e.Key,
            ["modifiedTime"] = e.ModifiedTime is { } m ? ValueConverter.Iso(m) : null,
            // When the line was written, as CSV's _synced_at: a dc line leaves rows written after its writtenBefore.
            ["syncedAt"] = ValueConverter.Iso(syncedAt),
        };
        if (layout.Mode == SinkMode.Document || e.Record is null)
        {
            line["record"] = e.Record is { } r ? JsonNode.Parse(r.GetRawText()) : null;
        }
        else
        {
            var fields = new JsonObject();
            var values = layout.Values(e, default, withRecord: false);
            foreach (var (c, value) in layout.Columns.Zip(values).Where(p => p.First.Source is not (ColumnSource.Record or ColumnSource.SyncedAt)))
            {
                fields[c.Name] = value switch
                {
                    null => null,
                    DateTimeOffset t => ValueConverter.Iso(t),
                    DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    string s when c.Type == ColumnType.Json => JsonNode.Parse(s),
                    string s => s,
                    long l => l,
                    decimal dec => dec,
                    bool b => b,
                    var other => other.ToString(),
                };
            }

            line["record"] = fields;
        }

        return line.ToJsonString();
    }

    private static string CsvHeader(TableLayout layout) => string.Join(',', new[] { "_op" }.Concat(layout.Columns.Select(c => c.Name)).Select(Csv));

    private static string CsvLine(TableLayout layout, ChangeEvent e, DateTimeOffset syncedAt)
    {
        if (e.Scope is { } scope)
        {
            // The children of a parent that are gone: the parent column names the parent, id lists those kept (";"-separated).
            return string.Join(',', new[] { "dc" }.Concat(layout.Columns.Select(c =>
                c.Source == ColumnSource.Key ? string.Join(';', scope.Keep.Order(StringComparer.Ordinal))
                : c.Name == layout.ParentColumn ? e.Key
                : c.Source == ColumnSource.SyncedAt ? ValueConverter.Iso(syncedAt) : "")).Select(Csv));
        }

        return string.Join(',', new[] { Op(e.Op) }.Concat(layout.Values(e, syncedAt).Select(value => value switch
        {
            null => "",
            DateTimeOffset t => ValueConverter.Iso(t),
            DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var v => v.ToString() ?? "",
        })).Select(Csv));
    }

    /// <summary>RFC 4180: quote fields holding a comma, quote, CR or LF; double the quotes.</summary>
    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private sealed class FileState
    {
        public Dictionary<string, string> Checkpoints { get; set; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Lengths { get; set; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Headers { get; set; } = new(StringComparer.Ordinal);
    }
}
