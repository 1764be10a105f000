using System.CommandLine;
using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Cli;

/// <summary>The target and table options sync, run, poll and status share, and how they open the sink.</summary>
internal sealed class TargetOptions
{
    public Option<string?> Target { get; } = new("--target") { Description = "sqlite:FILE (default sqlite:desksync.db), postgres:CONNECTION-STRING, jsonl:FOLDER or csv:FOLDER. Or DESKSYNC_TARGET." };

    public Option<string?> Schema { get; } = new("--schema") { Description = "PostgreSQL schema for the tables (default public)." };

    public Option<string?> Mode { get; } = new("--mode") { Description = "flat (a typed column per field, the default) or document (the whole record as JSON)." };

    public Option<bool> NoRaw { get; } = new("--no-raw") { Description = "Flat mode: leave _raw (the whole record as JSON) out of new tables. Half the bytes, a faster load; a field no column reads is then not kept." };

    public Option<string?> Tables { get; } = new("--tables") { Description = "Comma-separated tables (default: all but the ticket's children; \"all\" for every table): " + string.Join(", ", DeskStreams.All.Select(t => t.Name)) };

    public void AddTo(Command command, bool tables = true)
    {
        command.Options.Add(Target);
        command.Options.Add(Schema);
        command.Options.Add(Mode);
        command.Options.Add(NoRaw);
        if (tables)
        {
            command.Options.Add(Tables);
        }
    }

    public SinkMode ModeOf(ParseResult parse, DataSourceConfig source) => Targets.ParseMode(parse.GetValue(Mode) ?? source.Mode);

    public ISink OpenSink(ParseResult parse, DataSourceConfig source, string configPath, bool readOnly = false) =>
        Targets.Open(parse.GetValue(Target) ?? source.Target, parse.GetValue(Schema) ?? source.TargetSchema, ModeOf(parse, source), configPath, RawOf(parse, source), readOnly);

    public bool RawOf(ParseResult parse, DataSourceConfig source) => Targets.RawOf(parse.GetValue(NoRaw), source);

    public List<DeskStream> TablesOf(ParseResult parse, DataSourceConfig source) => Commands.SyncCommand.SelectTables(parse.GetValue(Tables), source.Tables);
}
