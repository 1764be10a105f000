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
            var names = parse.GetValue(global.Source) is { } chosen
                ? chosen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : config.Sources.Count == 0 ? ["default"] : [.. config.Sources.Keys.Order(StringComparer.Ordinal)];
            var shared = (DeskSyncConfig.Env("DESKSYNC_JOURNAL") ?? config.Journal) is { } j && !j.Equals("local", StringComparison.OrdinalIgnoreCase);
            var reports = new List<Dictionary<string, object?>>();
            foreach (var name in names)
            {
                if (!config.Sources.ContainsKey(name))
                {
                    throw new ConfigException($"No data source '{name}' in {configPath}: run `desksync init` first.");
                }

                reports.Add(await ReportAsync(targets, parse, config, configPath, name, shared, ct));
            }

            if (parse.GetValue(json))
            {
                object body = reports.Count == 1 ? reports[0] : new Dictionary<string, object?> { ["sources"] = reports };
                Console.Out.WriteLine(JsonSerializer.Serialize(body, new JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Success;
            }

            foreach (var report in reports)
            {
                Print(report);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task<Dictionary<string, object?>> ReportAsync(TargetOptions targets, ParseResult parse, DeskSyncConfig config, string configPath, string name, bool sharedJournal, CancellationToken ct)
    {
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
        // A journal on JetStream is on the cluster: its backlog is in /metrics, not in files here.
        long? backlog = sharedJournal ? null : JournalFiles.BytesAfter(journalDir, applied?.Position ?? new JournalPosition(0, 0));
        var mismatch = !sharedJournal && applied?.MismatchWith(JournalFiles.ViewOf(journalDir)) is { } why ? why + ": run `desksync journal rebaseline`" : null;
        var quarantine = Path.Combine(journalDir, "quarantine");
        return new Dictionary<string, object?>
        {
            ["source"] = name,
            ["orgId"] = source.OrgId,
            ["dataCentre"] = source.DataCenter,
            ["target"] = sink.Describe(),
            ["tables"] = tables,
            ["journal"] = sharedJournal ? "JetStream" : "local",
            ["journalBacklogBytes"] = backlog,
            ["journalMismatch"] = mismatch,
            ["appliedThrough"] = applied?.Through,
            ["quarantined"] = Directory.Exists(quarantine) ? Directory.GetFiles(quarantine, "*.body").Length : 0,
            ["quarantineFolder"] = quarantine,
            ["serviceUrlConfigured"] = File.Exists(ServiceTokens.PathOf(configPath, name)),
        };
    }

    private static void Print(Dictionary<string, object?> r)
    {
        Console.Out.WriteLine($"Data source '{r["source"]}': org {r["orgId"]}, data centre {r["dataCentre"]}, target {r["target"]}");
        foreach (var t in (List<Dictionary<string, object?>>)r["tables"]!)
        {
            Console.Out.WriteLine($"  {t["table"],-20} full load {t["fullLoad"]}{(t["polledUpTo"] is string w ? $", polled up to {w}" : "")}");
        }

        var through = r["appliedThrough"] is DateTimeOffset at ? $", events applied up to {at:yyyy-MM-dd HH:mm:ss} UTC" : "";
        var quarantined = (int)r["quarantined"]! > 0 ? $"; {r["quarantined"]} refused deliveries in {r["quarantineFolder"]}" : "";
        Console.Out.WriteLine(r["journalBacklogBytes"] is long backlog
            ? $"Webhook journal: {backlog:N0} bytes not yet applied{through}{quarantined}"
            : $"Webhook journal: on JetStream (its backlog is in `run`'s /metrics){through}{quarantined}");
        if (r["journalMismatch"] is string mismatch)
        {
            Console.Out.WriteLine("Journal: does not match the target — " + mismatch + ".");
        }

        Console.Out.WriteLine((bool)r["serviceUrlConfigured"]! ? "Service URL: made (`desksync webhook url` prints it)." : "Service URL: not made yet (`desksync run` or `desksync webhook url` makes it).");
    }
}
