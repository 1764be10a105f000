using System.CommandLine;
using System.Globalization;
using DeskSync.ZohoDesk.Polling;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync poll`: one incremental poll (and optionally a delete reconciliation), for cron or editions without webhooks.</summary>
internal static class PollCommand
{
    public static Command Build(GlobalOptions global)
    {
        var targets = new TargetOptions();
        var reconcile = new Option<bool>("--reconcile") { Description = "Also list every id and delete the rows Zoho no longer has (costs about a full read)." };
        var force = new Option<bool>("--force") { Description = "Let reconciliation delete more than half of a table." };
        var command = new Command("poll", "Read what changed in Zoho since the last poll (or the full load) by modifiedTime; with --reconcile, also remove rows deleted in Zoho.")
        {
            reconcile, force,
        };
        targets.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            using var context = await SourceContext.OpenAsync(configPath, parse.GetValue(global.Source), ct, writer: "poll");
            var source = context.Source;
            await using var sink = targets.OpenSink(parse, source, configPath);
            var selected = targets.TablesOf(parse, source);
            var client = context.Connection.Client;
            foreach (var r in await new Poller(client, sink).PollOnceAsync(selected, OutputLog.Report, ct))
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Table.Name}: {r.Rows:N0} rows read, {r.Calls:N0} calls, {r.Credits:N0} credits{(r.Message is null ? "" : " — " + r.Message)}"));
            }

            if (parse.GetValue(reconcile))
            {
                foreach (var r in await new DeleteReconciler(client, sink, new ReconcileOptions { Force = parse.GetValue(force) }).RunAsync(selected, OutputLog.Report, ct))
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Table.Name}: {r.ZohoRows:N0} in Zoho, {r.Deleted:N0} deleted, {r.Calls:N0} calls, {r.Credits:N0} credits{(r.Message is null ? "" : " — " + r.Message)}"));
                }
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"API credits left today: {client.Log.RemainingCredits:N0}"));
            return ExitCodes.Success;
        }));
        return command;
    }
}
