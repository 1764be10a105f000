using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text;
using DeskSync.Core.Journal;
using DeskSync.Core;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Webhooks;

/// <summary>
/// A journal that is not the one the target's checkpoint was taken from — lost, or restored from
/// an older copy — is refused before anything is applied, and `journal rebaseline` brings the
/// target up to date from Zoho (changes and deletes made meanwhile) and onto a new journal.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class JournalMismatchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-mismatch-").FullName;

    private string JournalDir => Path.Combine(_dir, "journal");

    private string Database => Path.Combine(_dir, "t.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("lost")]
    [InlineData("restored from an older copy")]
    [InlineData("replaced by another data source's")]
    public async Task A_journal_that_does_not_match_the_target_is_refused_and_the_rebaseline_skips_nothing(string what)
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var tickets = portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).ToList();
        var token = ServiceUrlToken.New();
        string hook;

        // Streaming: two changes arrive by webhook and are applied; a copy of the journal is taken between them.
        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            await sync.StartReceiverAsync(CancellationToken.None);
            hook = (await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), [DeskStreams.Tickets], "test", CancellationToken.None)).GetProperty("id").ToString();
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            await ChangeAndWaitAsync(portal, sync, tickets[0], "Escalated");
            CopyFolder(JournalDir, Path.Combine(_dir, "backup"));
            await ChangeAndWaitAsync(portal, sync, tickets[1], "Escalated");
            await stop.CancelAsync();
            await run;
        }

        // While DeskSync is away: the journal goes, and Zoho changes a ticket and deletes another (no events reach us).
        await WebhookRegistration.DeleteAsync(client, hook, CancellationToken.None);
        Directory.Delete(JournalDir, recursive: true);
        switch (what)
        {
            case "restored from an older copy":
                CopyFolder(Path.Combine(_dir, "backup"), JournalDir);
                break;
            case "replaced by another data source's":
                await using (var other = DurableJournal.Open(JournalDir))
                {
                    await other.AppendAsync(Encoding.UTF8.GetBytes(new string('x', 5_000)));
                }

                break;
        }

        portal.Emulator.Portal.Update("tickets", tickets[2], new JsonObject { ["status"] = "Changed while away" });
        Assert.True(portal.Emulator.Portal.Delete("tickets", tickets[3]));

        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            var refused = await Assert.ThrowsAsync<JournalDamagedException>(() => sync.StartReceiverAsync(CancellationToken.None));
            Assert.Contains("does not match the target", refused.Message, StringComparison.Ordinal);
            Assert.Contains("desksync journal rebaseline", refused.Message, StringComparison.Ordinal);
            Assert.Null(sync.Server);
        }

        Assert.Equal("Escalated", await StatusAsync(tickets[1]));
        Assert.NotEqual("Changed while away", await StatusAsync(tickets[2]));

        RebaselineResult result;
        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        {
            result = await JournalRebaseline.RunAsync(client, sink, [DeskStreams.Tickets], JournalDir, reconcile: true, null, CancellationToken.None);
        }

        Assert.NotNull(result.SetAside);
        Assert.True(Directory.Exists(result.SetAside), "the old journal is kept");
        Assert.NotNull(result.Since);
        Assert.Equal("Changed while away", await StatusAsync(tickets[2]));
        Assert.Null(await StatusAsync(tickets[3]));
        Assert.Equal(1, result.Reconciled.Single().Deleted);

        // The target follows the new journal: a new delivery is applied.
        await using (var sink = new SqliteSink(Database, SinkMode.Flat))
        await using (var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token)))
        {
            await sync.StartReceiverAsync(CancellationToken.None);
            Assert.Equal(result.JournalId, sync.Journal!.Id);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            var body = $"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{portal.Emulator.Portal.OrgId}\",\"eventTime\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\",\"payload\":{{\"id\":\"{tickets[4]}\",\"status\":\"After\",\"modifiedTime\":\"2099-01-01T00:00:00.000Z\"}}}}]";
            using var http = new HttpClient();
            using var response = await http.PostAsync(ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal("After", await StatusAsync(tickets[4]));
    }

    private static async Task ChangeAndWaitAsync(TestPortal portal, RealtimeSync sync, string id, string status)
    {
        portal.Emulator.Portal.Update("tickets", id, new JsonObject { ["status"] = status });
        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        Assert.True(sync.Applier!.EventsApplied > 0);
    }

    private async Task<string?> StatusAsync(string id)
    {
        await using DbConnection connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, status FROM tickets WHERE id = '{id}'");
        return rows.TryGetValue(id, out var row) ? Convert.ToString(row["status"], CultureInfo.InvariantCulture) : null;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
