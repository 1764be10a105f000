using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Catalog;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
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
            await using var sink = targets.OpenSink(parse, source, configPath);
            await sink.InitializeAsync(ct);
            var tables = new List<Dictionary<string, object?>>();
            foreach (var table in SyncCommand.SelectTables(null, source.Tables))
            {
                var snapshot = await sink.GetCheckpointAsync(FullLoad.StreamOf(table), ct);
                var poll = await sink.GetCheckpointAsync(Poller.StreamOf(table), ct);
                var snap = snapshot is null ? default : JsonDocument.Parse(snapshot.State).RootElement;
                tables.Add(new Dictionary<string, object?>
                {
                    ["table"] = table.Name,
                    ["fullLoad"] = snapshot is null ? "not started" : snap.GetProperty("status").GetString() == "complete" ? "complete" : "interrupted (sync continues it)",
                    ["fullLoadStarted"] = snapshot is null ? null : snap.GetProperty("startedAt").GetString(),
                    ["polledUpTo"] = poll is null ? null : JsonDocument.Parse(poll.State).RootElement.GetProperty("watermark").GetString(),
                });
            }

            var journalDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, ".desksync", "journal", name);
            var applied = await sink.GetCheckpointAsync(JournalApplier.Stream, ct);
            long journalBytes = Directory.Exists(journalDir) ? Directory.GetFiles(journalDir, "*.journal").Sum(f => new FileInfo(f).Length) : 0;
            long backlog = journalBytes;
            if (applied is not null)
            {
                var state = JsonDocument.Parse(applied.State).RootElement;
                var segment = state.GetProperty("segment").GetInt64();
                var offset = state.GetProperty("offset").GetInt64();
                backlog = Directory.Exists(journalDir)
                    ? Directory.GetFiles(journalDir, "*.journal").Sum(f =>
                    {
                        var n = long.Parse(Path.GetFileNameWithoutExtension(f), CultureInfo.InvariantCulture);
                        var length = new FileInfo(f).Length;
                        return n < segment ? 0 : n == segment ? Math.Max(0, length - offset) : length;
                    })
                    : 0;
            }

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

            Console.Out.WriteLine($"Webhook journal: {backlog:N0} bytes not yet applied{(quarantined > 0 ? $"; {quarantined} refused deliveries in {quarantine}" : "")}");
            Console.Out.WriteLine(File.Exists(tokenFile) ? "Service URL: made (`desksync webhook url` prints it)." : "Service URL: not made yet (`desksync run` or `desksync webhook url` makes it).");
            return ExitCodes.Success;
        }));
        return command;
    }
}
