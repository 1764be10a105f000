using System.CommandLine;
using DeskSync.Cli.Config;

namespace DeskSync.Cli;

internal sealed class GlobalOptions
{
    public Option<string?> Config { get; } = new("--config") { Description = "The settings file (default desksync.json, or DESKSYNC_CONFIG).", Recursive = true };

    public Option<string?> Source { get; } = new("--source") { Description = "Which data source of the settings file (needed when it has several).", Recursive = true };

    public Option<string?> Log { get; } = new("--log") { Description = "Operator output on stderr: text (default) or json (one JSON object per line).", Recursive = true };

    public string ConfigPath(ParseResult parse) =>
        parse.GetValue(Config) ?? DeskSyncConfig.Env("DESKSYNC_CONFIG") ?? DeskSyncConfig.DefaultPath;
}
