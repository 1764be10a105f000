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

    public static ISink Open(string? target, string? schema, SinkMode mode, string configPath)
    {
        var spec = string.IsNullOrWhiteSpace(target) ? "sqlite:desksync.db" : target.Trim();
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var kind = colon > 0 ? spec[..colon].ToLowerInvariant() : "";
        var rest = colon > 0 ? spec[(colon + 1)..] : spec;
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        string Local(string p) => Path.IsPathRooted(p) ? p : Path.Combine(baseDir, p);
        return kind switch
        {
            "sqlite" => new SqliteSink(Local(rest), mode),
            "postgres" or "postgresql" or "pg" => new PostgresSink(rest, mode, schema ?? "public"),
            "jsonl" => new FileSink(Local(rest), FileFormat.Jsonl, mode),
            "csv" => new FileSink(Local(rest), FileFormat.Csv, mode),
            _ when spec.EndsWith(".db", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".sqlite", StringComparison.OrdinalIgnoreCase) => new SqliteSink(Local(spec), mode),
            _ => throw new ConfigException($"Unknown target '{(kind.Length > 0 ? kind + ":" : spec)}': use sqlite:FILE, postgres:CONNECTION-STRING, jsonl:FOLDER or csv:FOLDER."),
        };
    }
}
