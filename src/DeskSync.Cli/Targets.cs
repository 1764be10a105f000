using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;

namespace DeskSync.Cli;

/// <summary>Turns a target setting into a sink.</summary>
internal static class Targets
{
    public static SinkMode ParseMode(string? mode) => (mode ?? "flat").ToLowerInvariant() switch
    {
        "flat" => SinkMode.Flat,
        "document" or "doc" => SinkMode.Document,
        _ => throw new ConfigException($"Unknown mode '{mode}': use flat or document."),
    };

    /// <summary>Whether flat tables get _raw: not with --no-raw, else the source's "raw" (default true).</summary>
    public static bool RawOf(bool noRaw, DataSourceConfig source) => !noRaw && source.Raw != false;

    /// <param name="raw">Flat mode: false leaves _raw (the whole record as JSON) out of new tables.</param>
    public static ISink Open(string? target, string? schema, SinkMode mode, string configPath, bool raw = true)
    {
        if (!raw && mode != SinkMode.Flat)
        {
            throw new ConfigException("--no-raw (\"raw\": false) applies to flat mode only: in document mode the record is the data.");
        }

        var spec = string.IsNullOrWhiteSpace(target) ? "sqlite:desksync.db" : target.Trim();
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var kind = colon > 0 ? spec[..colon].ToLowerInvariant() : "";
        var rest = colon > 0 ? spec[(colon + 1)..] : spec;
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        string Local(string p) => Path.IsPathRooted(p) ? p : Path.Combine(baseDir, p);
        return kind switch
        {
            "sqlite" => new SqliteSink(Local(rest), mode) { RawColumn = raw },
            "postgres" or "postgresql" or "pg" => new PostgresSink(rest, mode, schema ?? "public") { RawColumn = raw },
            "jsonl" => new FileSink(Local(rest), FileFormat.Jsonl, mode) { RawColumn = raw },
            "csv" => new FileSink(Local(rest), FileFormat.Csv, mode) { RawColumn = raw },
            _ when spec.EndsWith(".db", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".sqlite", StringComparison.OrdinalIgnoreCase) => new SqliteSink(Local(spec), mode) { RawColumn = raw },
            _ => throw new ConfigException($"Unknown target '{(kind.Length > 0 ? kind + ":" : spec)}': use sqlite:FILE, postgres:CONNECTION-STRING, jsonl:FOLDER or csv:FOLDER."),
        };
    }
}
