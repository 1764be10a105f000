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
    /// <param name="readOnly">Open for reading only (`status`): nothing created, nothing written.</param>
    public static ISink Open(string? target, string? schema, SinkMode mode, string configPath, bool raw = true, bool readOnly = false)
    {
        if (!raw && mode != SinkMode.Flat)
        {
            throw new ConfigException("--no-raw (\"raw\": false) applies to flat mode only: in document mode the record is the data.");
        }

        var spec = string.IsNullOrWhiteSpace(target) ? "sqlite:desksync.db" : target.Trim();
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        // "C:\x.db" is a path, not a target kind.
        var kind = colon > 1 ? spec[..colon].ToLowerInvariant() : "";
        var rest = colon > 1 ? spec[(colon + 1)..].Trim() : spec;
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        string Local(string what)
        {
            if (rest.Length == 0)
            {
                throw new ConfigException($"The target '{spec}' names no {what}: give one, e.g. {kind}:{(what == "file" ? "desksync.db" : "out")}.");
            }

            return Path.IsPathRooted(rest) ? rest : Path.Combine(baseDir, rest);
        }

        return kind switch
        {
            "sqlite" => new SqliteSink(Local("file"), mode) { RawColumn = raw, ReadOnly = readOnly },
            "postgres" or "postgresql" or "pg" => new PostgresSink(PostgresConnection(rest), mode, schema ?? "public") { RawColumn = raw, ReadOnly = readOnly },
            "jsonl" => new FileSink(Local("folder"), FileFormat.Jsonl, mode) { RawColumn = raw, ReadOnly = readOnly },
            "csv" => new FileSink(Local("folder"), FileFormat.Csv, mode) { RawColumn = raw, ReadOnly = readOnly },
            "" when spec.EndsWith(".db", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".sqlite", StringComparison.OrdinalIgnoreCase) => new SqliteSink(Local("file"), mode) { RawColumn = raw, ReadOnly = readOnly },
            _ => throw new ConfigException($"Unknown target '{(kind.Length > 0 ? kind + ":" : spec)}': use sqlite:FILE, postgres:CONNECTION-STRING, jsonl:FOLDER or csv:FOLDER (a bare FILE.db or FILE.sqlite is SQLite)."),
        };
    }

    /// <summary>The connection string, checked before anything starts: a misspelt keyword is named with the ones Npgsql takes.</summary>
    private static string PostgresConnection(string text)
    {
        if (text.Length == 0)
        {
            throw new ConfigException("The target 'postgres:' has no connection string: e.g. postgres:\"Host=127.0.0.1;Database=zoho;Username=me\" (password in PGPASSWORD).");
        }

        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(text);
            return text;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            throw new ConfigException($"The PostgreSQL connection string is not valid: {ex.Message.TrimEnd('.')}. It is KEY=VALUE pairs separated by ';', with keys such as Host, Port, Database, Username, Password, SSL Mode, Timeout (Npgsql's names).");
        }
    }
}
