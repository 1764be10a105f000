using System.CommandLine;
using System.Globalization;
using DeskSync.Cli.Config;
using DeskSync.Cli.Service;
using DeskSync.Core.Locking;
using DeskSync.ZohoDesk.Sync;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync journal rebaseline`: recovers a data source whose journal is damaged, lost, replaced or restored.</summary>
internal static class JournalCommand
{
    public static Command Build(GlobalOptions global)
    {
        var targets = new TargetOptions();
        var noReconcile = new Option<bool>("--no-reconcile") { Description = "Do not list every id to find records deleted meanwhile (saves about a full read of ids; deletes whose events were in the old journal are then missed until the next reconciliation)." };
        var journalOption = new Option<string?>("--journal") { Description = "As `run --journal`: local (default) or the NATS servers of the JetStream cluster; with JetStream the stream is kept and the target follows it from its end, and the data source's lease is taken first (no process applies meanwhile)." };
        var rebaseline = new Command("rebaseline", "Set the journal aside (kept), read from Zoho what changed since the last applied event (the poll path), find deletes by an id listing, and start a new journal the target follows from now on. Run it with `run` stopped (with a JetStream journal, it takes the data source's lease instead).")
        {
            noReconcile, journalOption,
        };
        targets.AddTo(rebaseline);
        rebaseline.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            var config = DeskSyncConfig.Load(configPath);
            await using var shared = await SharedJournal.OpenAsync(parse.GetValue(journalOption) ?? DeskSyncConfig.Env("DESKSYNC_JOURNAL") ?? config.Journal, config.JournalReplicas ?? 3, TimeSpan.FromSeconds(10), ct);
            using var context = await SourceContext.OpenAsync(configPath, parse.GetValue(global.Source), ct, writer: shared is null ? "journal rebaseline" : null);
            await using var sink = targets.OpenSink(parse, context.Source, configPath);
            var folder = JournalFolder(configPath, context.Name);
            RebaselineResult result;
            if (shared is null)
            {
                result = await JournalRebaseline.RunAsync(context.Connection.Client, sink, targets.TablesOf(parse, context.Source), folder, !parse.GetValue(noReconcile), OutputLog.Report, ct);
            }
            else
            {
                await using var lease = await shared.OpenLoneLeaseAsync(context.Name, ct);
                await TakeAsync(lease, context.Name, ct);
                if (lease.Term is { } term)
                {
                    await Fence.ClaimAsync(sink, term, ct); // a process that lost the lease cannot write after this
                }

                await using var journal = await shared.OpenJournalAsync(context.Name, ct);
                folder = journal.Location;
                result = await JournalRebaseline.FollowFromNowAsync(context.Connection.Client, sink, targets.TablesOf(parse, context.Source), journal, !parse.GetValue(noReconcile), OutputLog.Report, ct);
            }

            Console.Out.WriteLine(result.Since is { } t
                ? $"Read what changed in Zoho since the last applied event ({t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC, less the overlap):"
                : "No applied event was recorded: read what changed since each table's last poll or full load:");
            foreach (var r in result.Polled)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Table.Name}: {r.Rows:N0} rows read, {r.Calls:N0} {Plural(r.Calls, "call")}, {r.Credits:N0} {Plural(r.Credits, "credit")}{(r.Message is null ? "" : " — " + r.Message)}"));
            }

            foreach (var r in result.Reconciled)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Table.Name}: {r.Deleted:N0} deleted in Zoho meanwhile, {r.Calls:N0} {Plural(r.Calls, "call")}{(r.Message is null ? "" : " — " + r.Message)}"));
            }

            Console.Out.WriteLine(shared is null
                ? $"New journal {result.JournalId} in {folder}; the target follows it from its start. `desksync run` continues as before."
                : $"The target follows {folder} ({result.JournalId}) from where it ends now. `desksync run` continues as before.");
            return ExitCodes.Success;
        }));

        return new Command("journal", "The webhook journal: recover one that is damaged, lost, replaced or restored.") { rebaseline };
    }

    /// <summary>Waits a while for the data source's lease: a process whose journal does not match its target has let go of it.</summary>
    private static async Task TakeAsync(ISourceLease lease, string source, CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await lease.AcquireAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new DataSourceBusyException($"Another process applies {source} ({lease.Holder ?? "its name is not known"}): stop it, or wait until it stops applying, then run this again. Nothing was changed.");
        }
    }

    public static string JournalFolder(string configPath, string source) => Path.Combine(SourceContext.StateFolder(configPath), "journal", source);

    private static string Plural(long n, string word) => n == 1 ? word : word + "s";
}
