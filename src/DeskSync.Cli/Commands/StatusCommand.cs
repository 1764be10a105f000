using System.CommandLine;
using System.Text.Json;
using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync status`: where each table stands, from the target's checkpoints and the journal — no API call.</summary>
internal static class StatusCommand
{
    public static Command Build(GlobalOptions global)
    {
        var targets = new TargetOptions();
        var json = new Option<bool>("--json") { Description = "Print the status as JSON." };
        var command = new Command("status", "Show the data source's state: full load per table, poll watermarks, webhook journal backlog. Makes no API call.") { json };
        targets.AddTo(command, tables: false);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            var config = DeskSyncConfig.Load(configPath);
            var name = parse.GetValue(global.Source) ?? (config.Sources.Count == 1 ? config.Sources.Keys.First() : "default");
            if (!config.Sources.ContainsKey(name))
            {
                throw new ConfigException($"No data source '{name}' in {configPath}: run `desksync init` first.");
            }

            var source = config.Resolve(name);
            await using var sink = targets.OpenSink(parse, source, configPath, readOnly: true);
            var loaded = true;
            try
            {
                await sink.InitializeAsync(ct);
            }
            catch (SinkException ex) when (ex.Missing)
            {
                loaded = false; // nothing loaded yet: every table "not started", every journaled byte waiting
            }

            var tables = new List<Dictionary<string, object?>>();
            foreach (var table in SyncCommand.SelectTables(null, source.Tables))
            {
                var load = loaded ? await TableCheckpoints.LoadAsync(sink, table, ct) : null;
                var poll = loaded ? await TableCheckpoints.PollAsync(sink, table, ct) : null;
                tables.Add(new Dictionary<string, object?>
                {
                    ["table"] = table.Name,
                    ["fullLoad"] = load is null ? "not started" : load.IsComplete ? "complete" : "interrupted (sync continues it)",
                    ["fullLoadStarted"] = load?.StartedAt,
                    ["polledUpTo"] = poll?.Watermark,
                });
            }

            var journalDir = JournalCommand.JournalFolder(configPath, name);
            var applied = loaded ? await JournalCheckpoint.ReadAsync(sink, ct) : null;
            var backlog = JournalFiles.BytesAfter(journalDir, applied?.Position ?? new JournalPosition(0, 0));
            var mismatch = applied?.MismatchWith(JournalFiles.ViewOf(journalDir)) is { } why ? why + ": run `desksync journal rebaseline`" : null;
            var quarantine = Path.Combine(journalDir, "quarantine");
            var quarantined = Directory.Exists(quarantine) ? Directory.GetFiles(quarantine, "*.body").Length : 0;
            var tokenFile = ServiceTokens.PathOf(configPath, name);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["source"] = name,
                    ["orgId"] = source.OrgId,
                    ["target"] = sink.Describe(),
                    ["tables"] = tables,
                    ["journalBacklogBytes"] = backlog,
                    ["journalMismatch"] = mismatch,
                    ["appliedThrough"] = applied?.Through,
                    ["quarantined"] = quarantined,
                    ["serviceUrlConfigured"] = File.Exists(tokenFile),
                }, new JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Success;
            }

            Console.Out.WriteLine($"Data source '{name}': org {source.OrgId}, data centre {source.DataCenter}, target {sink.Describe()}");
            foreach (var t in tables)
            {
                Console.Out.WriteLine($"  {t["table"],-20} full load {t["fullLoad"]}{(t["polledUpTo"] is string w ? $", polled up to {w}" : "")}");
            }

            Console.Out.WriteLine($"Webhook journal: {backlog:N0} bytes not yet applied{(applied?.Through is { } through ? $", events applied up to {through:yyyy-MM-dd HH:mm:ss} UTC" : "")}{(quarantined > 0 ? $"; {quarantined} refused deliveries in {quarantine}" : "")}");
            if (mismatch is not null)
            {
                Console.Out.WriteLine("Journal: does not match the target — " + mismatch + ".");
            }
            Console.Out.WriteLine(File.Exists(tokenFile) ? "Service URL: made (`desksync webhook url` prints it)." : "Service URL: not made yet (`desksync run` or `desksync webhook url` makes it).");
            return ExitCodes.Success;
        }));
        return command;
    }
}
