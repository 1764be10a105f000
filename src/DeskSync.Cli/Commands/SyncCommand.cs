using System.CommandLine;
using System.Globalization;
using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Spectre.Console;

namespace DeskSync.Cli.Commands;

internal sealed record SyncSettings(string? Target, string? Schema, string? Mode, string? Tables, bool Detail, bool FullRefresh, bool NoRaw = false);

/// <summary>`desksync sync`: the full load of the selected tables into the target, resumable.</summary>
internal static class SyncCommand
{
    public static Command Build(GlobalOptions global)
    {
        var targets = new TargetOptions();
        var detail = new Option<bool>("--detail") { Description = "Also read every ticket's detail (one API call per ticket)." };
        var fullRefresh = new Option<bool>("--full-refresh") { Description = "Load tables again even when their snapshot completed." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress bars; a line per table." };
        var command = new Command("sync", "Copy the portal's tables into the target (a full load; an interrupted load continues where it stopped).")
        {
            detail, fullRefresh, quiet,
        };
        targets.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, () => RunAsync(
            global.ConfigPath(parse),
            parse.GetValue(global.Source),
            new SyncSettings(parse.GetValue(targets.Target), parse.GetValue(targets.Schema), parse.GetValue(targets.Mode), parse.GetValue(targets.Tables), parse.GetValue(detail), parse.GetValue(fullRefresh), parse.GetValue(targets.NoRaw)),
            parse.GetValue(quiet),
            ct)));
        return command;
    }

    public static async Task<int> RunAsync(string configPath, string? sourceName, SyncSettings settings, bool quiet, CancellationToken ct)
    {
        using var context = await SourceContext.OpenAsync(configPath, sourceName, ct, writer: "sync");
        var source = context.Source;
        var sinkMode = Targets.ParseMode(settings.Mode ?? source.Mode);
        var selected = SelectTables(settings.Tables, source.Tables);
        await using var sink = AttachmentFolders.Wrap(
            Targets.Open(settings.Target ?? source.Target, settings.Schema ?? source.TargetSchema, sinkMode, context.ConfigPath, raw: Targets.RawOf(settings.NoRaw, source)),
            source, context.ConfigPath, context.Connection.Client, selected, removeDeleted: true);
        var options = source.Snapshot(settings.Detail, settings.FullRefresh);
        var load = new FullLoad(context.Connection.Client, sink, options);
        OutputLog.Info("load_started", $"Loading {Words.Count(selected.Count, "table")} into {sink.Describe()} ({sinkMode.ToString().ToLowerInvariant()} mode).");

        IReadOnlyList<TableLoadResult> results;
        if (quiet || OutputLog.Json || Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            results = await load.RunAsync(selected, new LineProgress(), ct);
        }
        else
        {
            results = await RunWithBarsAsync(load, selected, ct);
        }

        results = await UpdateLoadedAsync(context.Connection.Client, sink, results, ct);
        PrintSummary(results, context.Connection.Client.Log);
        return results.Any(r => r.Status == TableLoadStatus.Failed) ? ExitCodes.Unexpected : ExitCodes.Success;
    }

    /// <summary>
    /// Tables loaded by an earlier `sync` are brought up to date the cheap way: what changed since
    /// their last load or poll, by modifiedTime (the poll path), rather than being left as they were
    /// or read again whole (`--full-refresh` does that).
    /// </summary>
    private static async Task<IReadOnlyList<TableLoadResult>> UpdateLoadedAsync(DeskSync.ZohoDesk.Api.DeskClient client, ISink sink, IReadOnlyList<TableLoadResult> results, CancellationToken ct)
    {
        var earlier = results.Where(r => r.Status == TableLoadStatus.AlreadyLoaded).Select(r => r.Table).ToList();
        if (earlier.Count == 0)
        {
            return results;
        }

        OutputLog.Info("update_started", $"Bringing {Words.Count(earlier.Count, "table")} loaded earlier up to date (what changed since the last load or poll)…");
        var started = DateTime.UtcNow;
        var polled = (await new DeskSync.ZohoDesk.Polling.Poller(client, sink).PollOnceAsync(earlier, line => OutputLog.Write(line.StartsWith("warning:", StringComparison.Ordinal) ? "warning" : "info", "update", line), ct))
            .ToDictionary(p => p.Table);
        var progress = new LineProgress();
        return [.. results.Select(r =>
        {
            if (!polled.TryGetValue(r.Table, out var p))
            {
                return r;
            }

            var updated = new TableLoadResult(r.Table, p.Message is null ? TableLoadStatus.Updated : TableLoadStatus.Skipped, p.Rows, p.Calls, p.Credits, DateTime.UtcNow - started, p.Message);
            progress.TableFinished(updated);
            return updated;
        })];
    }

    internal static List<DeskStream> SelectTables(string? flag, List<string>? configured)
    {
        var names = flag?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? configured;
        if (names is null || names.Count == 0)
        {
            return [.. DeskStreams.Default];
        }

        if (names is ["all"])
        {
            return [.. DeskStreams.All];
        }

        var selected = names.Select(n => DeskStreams.Find(n) ?? throw new ConfigException(
            $"Unknown table '{n}'. Tables: {string.Join(", ", DeskStreams.All.Select(t => t.Name))}, or all (the default leaves out the tables read per ticket).")).ToHashSet();
        return [.. DeskStreams.WithParents(selected)];
    }

    private static async Task<IReadOnlyList<TableLoadResult>> RunWithBarsAsync(FullLoad load, List<DeskStream> tables, CancellationToken ct)
    {
        IReadOnlyList<TableLoadResult> results = [];
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bars = new BarProgress(ctx);
                results = await load.RunAsync(tables, bars, ct);
            });
        return results;
    }

    private static void PrintSummary(IReadOnlyList<TableLoadResult> results, DeskSync.ZohoDesk.Api.ApiCallLog log)
    {
        var table = new Table().AddColumns("table", "status", "rows", "API calls", "credits", "time");
        foreach (var r in results)
        {
            table.AddRow(
                r.Table.Name,
                r.Status switch
                {
                    TableLoadStatus.Loaded => "[green]loaded[/]",
                    TableLoadStatus.AlreadyLoaded => "[grey]already loaded[/]",
                    TableLoadStatus.Updated => "[green]updated[/]",
                    TableLoadStatus.Skipped => "[yellow]skipped[/]",
                    _ => "[red]failed[/]",
                },
                r.Rows.ToString("N0", CultureInfo.InvariantCulture),
                r.Calls.ToString("N0", CultureInfo.InvariantCulture),
                r.Credits.ToString("N0", CultureInfo.InvariantCulture),
                $"{r.Elapsed.TotalSeconds:0.0} s");
        }

        table.AddRow("[bold]total[/]", "", results.Sum(r => r.Rows).ToString("N0", CultureInfo.InvariantCulture),
            results.Sum(r => r.Calls).ToString("N0", CultureInfo.InvariantCulture), results.Sum(r => r.Credits).ToString("N0", CultureInfo.InvariantCulture), "");
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        console.Write(table);
        foreach (var r in results.Where(r => r.Message is not null && r.Status != TableLoadStatus.AlreadyLoaded))
        {
            Console.Out.WriteLine(r.Message);
        }

        if (log.RemainingCredits is { } left)
        {
            Console.Out.WriteLine($"API credits left today: {left.ToString("N0", CultureInfo.InvariantCulture)}");
        }

        Console.Out.WriteLine($"Answers: {CheckCommand.Compression(log)}");
    }

    /// <summary>Plain or JSON lines, for logs and pipes: a line when a table starts and ends, and one every 10 s while it loads.</summary>
    internal sealed class LineProgress : IFullLoadProgress
    {
        private static readonly TimeSpan Every = TimeSpan.FromSeconds(10);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTime> _said = new(StringComparer.Ordinal);

        public void TableStarted(DeskStream table)
        {
            _said[table.Name] = DateTime.UtcNow;
            OutputLog.Info("table_started", $"{table.Name}: loading", new Dictionary<string, object?> { ["table"] = table.Name });
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
            var now = DateTime.UtcNow;
            var last = _said.GetOrAdd(table.Name, now);
            if (now - last < Every || !_said.TryUpdate(table.Name, now, last))
            {
                return;
            }

            OutputLog.Info("table_progress",
                string.Create(CultureInfo.InvariantCulture, $"{table.Name}: {rowsSoFar:N0} rows{(total is > 0 ? $" of {total:N0}" : "")} so far, {Words.Count(calls, "call")}, {Words.Count(credits, "credit")}"),
                new Dictionary<string, object?> { ["table"] = table.Name, ["rows"] = rowsSoFar, ["total"] = total, ["calls"] = calls, ["credits"] = credits });
        }

        public void TableFinished(TableLoadResult r) => OutputLog.Info("table_finished",
            string.Create(CultureInfo.InvariantCulture, $"{r.Table.Name}: {Words.Status(r.Status)}, {Words.Count(r.Rows, "row")}, {Words.Count(r.Calls, "call")}, {Words.Count(r.Credits, "credit")}, {r.Elapsed.TotalSeconds:0.0} s"),
            new Dictionary<string, object?> { ["table"] = r.Table.Name, ["status"] = Words.Status(r.Status), ["rows"] = r.Rows, ["calls"] = r.Calls, ["credits"] = r.Credits, ["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 3) });

        public void Warning(string message) => OutputLog.Warn("warning", message);
    }

    /// <summary>A bar per table: rows of the total when known, calls, credits and rate.</summary>
    private sealed class BarProgress(ProgressContext ctx) : IFullLoadProgress
    {
        private readonly Dictionary<DeskStream, (ProgressTask Task, DateTime Started)> _tasks = [];

        public void TableStarted(DeskStream table)
        {
            var task = ctx.AddTask(table.Name, maxValue: 1);
            task.IsIndeterminate = true;
            _tasks[table] = (task, DateTime.UtcNow);
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
            if (!_tasks.TryGetValue(table, out var entry))
            {
                return;
            }

            var (task, started) = entry;
            if (total is > 0)
            {
                task.IsIndeterminate = false;
                task.MaxValue = Math.Max(total.Value, rowsSoFar);
            }

            task.Value = rowsSoFar;
            var rate = rowsSoFar / Math.Max(0.001, (DateTime.UtcNow - started).TotalSeconds);
            // Bar, percentage, time left and spinner take about 40 columns: on a narrow terminal the
            // description keeps what matters (rows and rate) rather than being cut to "…".
            task.Description = AnsiConsole.Profile.Width >= 120
                ? $"{table.Name,-20} {rowsSoFar,9:N0} rows  {calls,6:N0} calls  {credits,7:N0} credits  {rate,8:N0} rows/s"
                : $"{(table.Name.Length > 12 ? table.Name[..12] : table.Name),-12} {rowsSoFar,9:N0} {rate,6:N0}/s";
        }

        public void TableFinished(TableLoadResult result)
        {
            if (_tasks.TryGetValue(result.Table, out var entry))
            {
                entry.Task.IsIndeterminate = false;
                entry.Task.MaxValue = Math.Max(1, result.Rows);
                entry.Task.Value = entry.Task.MaxValue;
                entry.Task.StopTask();
            }
        }

        public void Warning(string message) => AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
    }
}
