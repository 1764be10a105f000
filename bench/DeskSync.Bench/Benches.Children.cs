using DeskSync.ZohoDesk.Polling;

namespace DeskSync.Bench;

/// <summary>What the ticket's children cost: a full load, a poll and webhooks, in calls and credits per 1,000 tickets, beside the strategies others use.</summary>
internal sealed partial class Benches
{
    private static readonly DeskStream[] ChildStreams = [DeskStreams.TicketThreads, DeskStreams.TicketComments, DeskStreams.TicketAttachments, DeskStreams.TicketTimeEntries, DeskStreams.TicketTags, DeskStreams.TicketHistory];

    internal async Task Children(int tickets, int changed)
    {
        var (emulator, client) = await Portal(tickets, 10);
        await using (emulator)
        {
            var path = Path.Combine(work, "children.db");
            await using var sink = new SqliteSink(path, SinkMode.Flat);
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.WithParents(ChildStreams), null, CancellationToken.None);
            var per = 1000.0 / tickets;
            var all = emulator.Portal.List("tickets");
            int Count(JsonObject t, string field) => int.Parse(t[field]!.ToString(), CultureInfo.InvariantCulture);
            var threads = all.Sum(t => Count(t, "threadCount"));
            static string? EmulatorCount(DeskStream s) => s.Name switch
            {
                "ticket_threads" => "threadCount",
                "ticket_comments" => "commentCount",
                "ticket_attachments" => "attachmentCount",
                "ticket_tags" => "tagCount",
                "ticket_history" => null, // every ticket has one
                _ => "timeEntryCount",
            };
            static string ListOperation(DeskStream s) => s.Name switch
            {
                "ticket_threads" => "getThreads",
                "ticket_comments" => "getTicketComments",
                "ticket_attachments" => "getTicketAttachments",
                "ticket_tags" => "getTicketTags",
                "ticket_history" => "getTicketHistory",
                _ => "getTicketTimeEntries",
            };
            var lines = new List<string>();
            var ops = emulator.Api.Calls;
            foreach (var (r, list, countField) in results.Where(r => r.Table.Parent is not null).Select(r => (r, ListOperation(r.Table), r.Table.Parent!.CountField)))
            {
                // The emulator's own counts say which tickets have any; a load knows only those search answers carry.
                var having = EmulatorCount(r.Table) is { } field ? all.Count(t => Count(t, field) > 0) : all.Count;
                var listed = ops.GetValueOrDefault(list);
                lines.Add($"{r.Table.Name}: {r.Rows * per:N0} rows, {listed * per:N1} list calls ({listed / (double)Math.Max(1, having):N2} per ticket that has any; {having * per / 10:N0}% of tickets have any{(countField is null ? ", every ticket is listed" : r.Table.Parent!.CountInDetailOnly ? ", told by the ticket's detail" : "")})"
                    + (r.Table == DeskStreams.TicketThreads ? $", {ops.GetValueOrDefault("getThread") * per:N0} content calls ({ops.GetValueOrDefault("getThread") / (double)threads:N2} per thread)" : "")
                    + $", {r.Calls * per:N0} calls and {r.Credits * per:N0} credits in all");
            }

            lines.Add($"ticket details for the counts search answers lack: {ops.GetValueOrDefault("getTicket") * per:N0} calls (1 credit each), one per ticket for attachments, time entries and tags together");
            var ours = results.Where(r => r.Table.Parent is not null).Sum(r => r.Calls);
            Report($"children full load per 1,000 tickets ({tickets:N0} tickets, {threads:N0} threads)",
                string.Join("; ", lines) + $". All {ChildStreams.Length} kinds: {ours * per:N0} calls, {results.Where(r => r.Table.Parent is not null).Sum(r => r.Credits) * per:N0} credits"
                + $" — one list call per ticket per kind on every sync: {ChildStreams.Length * 1000:N0} calls, {ChildStreams.Length * 3000:N0} credits; and one call per thread for content: {(threads * per):N0} more calls",
                $"children --tickets {tickets} --changed {changed}");

            // A poll after `changed` tickets changed (their fields, not their children).
            var before = ChildStreams.Sum(s => client.Log.ByLabel.GetValueOrDefault(s.Name).Calls);
            foreach (var ticket in all.Take(changed))
            {
                emulator.Portal.Update("tickets", ticket["id"]!.GetValue<string>(), new JsonObject { ["status"] = "Closed" });
            }

            var polled = await new Poller(client, sink, new PollOptions { Overlap = TimeSpan.Zero }).PollOnceAsync(ChildStreams, null, CancellationToken.None);
            var pollCalls = polled.Where(p => p.Table.Parent is not null).Sum(p => p.Calls);
            Report($"children poll per 1,000 changed tickets ({changed:N0} changed)",
                $"{pollCalls * 1000.0 / changed:N0} calls ({(ChildStreams.Sum(s => client.Log.ByLabel.GetValueOrDefault(s.Name).Calls) - before) * 1000.0 / changed:N0} by the log), each kind listed again for each changed ticket",
                $"children --tickets {tickets} --changed {changed}");
        }

        await ChildWebhooks(tickets, changed);
    }

    /// <summary>Webhooks: a ticket's update re-reads its children unless the counts it carries match the target; a comment's events carry it whole.</summary>
    private async Task ChildWebhooks(int tickets, int changed)
    {
        var (emulator, client) = await Portal(tickets, 10);
        await using (emulator)
        {
            var dir = Path.Combine(work, "child-webhooks");
            await using var sink = new SqliteSink(Path.Combine(dir, "children.db"), SinkMode.Flat);
            var tables = DeskStreams.WithParents(ChildStreams);
            var token = ServiceUrlToken.New();
            await using var sync = new RealtimeSync(client, sink, new RealtimeSyncOptions
            {
                Tables = tables,
                Server = new WebhookServerOptions { Listen = "http://127.0.0.1:0" },
                JournalDirectory = Path.Combine(dir, "journal"),
                Token = token,
                OrgId = emulator.Portal.OrgId,
            });
            await sync.StartReceiverAsync(CancellationToken.None);
            await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), tables, "bench", CancellationToken.None);
            using var stop = new CancellationTokenSource();
            var run = sync.RunAsync(null, stop.Token);
            while (!(sync.Streaming && sync.CatchUpPolls >= 2))
            {
                await Task.Delay(20);
            }

            long Calls() => ChildStreams.Sum(s => client.Log.ByLabel.GetValueOrDefault(s.Name).Calls);
            async Task<long> Measure(Action change)
            {
                var before = Calls();
                change();
                await emulator.Webhooks.WaitIdleAsync(TimeSpan.FromMinutes(5));
                await sync.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
                return Calls() - before;
            }

            var ids = emulator.Portal.List("tickets").Take(changed).Select(t => t["id"]!.GetValue<string>()).ToList();
            var updates = await Measure(() => ids.ForEach(id => emulator.Portal.Update("tickets", id, new JsonObject { ["status"] = "On Hold" })));
            var comments = await Measure(() => ids.ForEach(id => emulator.Portal.AddChild("comments", id, new JsonObject { ["content"] = "<div>bench</div>" })));
            await stop.CancelAsync();
            await run;
            Report($"children by webhooks per 1,000 events ({changed:N0} of each)",
                $"Ticket_Update: {updates * 1000.0 / changed:N0} child calls (threads listed where the ticket has any, comments only where its count disagrees with the target, the history always, and the ticket's detail once for the counts of attachments, time entries and tags, which are listed where it has any); Ticket_Comment_Add with its Ticket_Update: {comments * 1000.0 / changed:N0}",
                $"children --tickets {tickets} --changed {changed}");
        }
    }
}
