using System.Net;
using System.Text;
using System.Text.Json;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>
/// As an operator meets it: the journal folder is lost while `run` is stopped; the next `run`
/// refuses with exit code 8 and says what to do; `desksync journal rebaseline` recovers, and `run`
/// goes on. The run's own warnings (a delivery from another portal) reach its log.
/// </summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class JournalRebaselineProcessTests() : EmulatorProcessTest(["--tickets", "40"], connect: true)
{
    [Fact]
    public async Task A_lost_journal_stops_run_with_exit_8_and_journal_rebaseline_recovers()
    {
        var output = Path.Combine(Dir, "out.db");
        string[] target = ["--tables", "tickets", "--target", "sqlite:" + output];
        await using (var run = RunningDeskSync.Start(Dir, ["run", "--config", Config, .. target, "--listen", "http://127.0.0.1:0"]))
        {
            await run.WaitForLineAsync("catch-up:", "the load and the catch-up");
            var token = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Dir, ".desksync", "secrets", "default.service-token.json"))).RootElement.GetProperty("Token").GetString();
            using var http = new HttpClient();
            using (var applied = await http.PostAsync($"{run.Address}hooks/{token}", Webhook.TicketAdds(Emulator.Value("orgId"), ["9000000000007"])))
            {
                Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
            }

            var foreign = "[{\"eventType\":\"Ticket_Add\",\"orgId\":\"1\",\"payload\":{\"id\":\"5\"}}]";
            using (var refused = await http.PostAsync($"{run.Address}hooks/{token}", new StringContent(foreign, Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            }

            await run.WaitForAsync(() => run.Lines.Any(l => l.Contains("Refused a delivery for org 1", StringComparison.Ordinal)), "the receiver's warning in the log");
            Assert.Contains("desksync_webhook_refused_total{status=\"403\"} 1", await http.GetStringAsync($"{run.AdminAddress}metrics"), StringComparison.Ordinal);
            using (var hidden = await http.GetAsync($"{run.Address}metrics"))
            {
                Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode); // the public port serves the service URL only
            }

            await run.WaitForAsync(() => StatusJson()["journalBacklogBytes"].GetInt64() == 0, "the event applied");
        }

        Directory.Delete(Path.Combine(Dir, ".desksync", "journal", "default"), recursive: true);

        var refusedRun = await DeskSyncProcess.RunAsync(Dir, null, ["run", "--config", Config, .. target, "--once"]);
        Assert.True(refusedRun.ExitCode == 8, $"exit {refusedRun.ExitCode}: {refusedRun.Stderr}");
        Assert.Contains("does not match the target", refusedRun.Stderr, StringComparison.Ordinal);
        Assert.Contains("desksync journal rebaseline", refusedRun.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refusedRun.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not match the target", (await DeskSyncProcess.RunAsync(Dir, null, ["status", "--config", Config, "--target", "sqlite:" + output])).Stdout, StringComparison.Ordinal);

        var rebaseline = await DeskSyncProcess.RunAsync(Dir, null, ["journal", "rebaseline", "--config", Config, .. target]);
        Assert.True(rebaseline.ExitCode == 0, rebaseline.Stderr);
        Assert.Contains("New journal", rebaseline.Stdout, StringComparison.Ordinal);
        Assert.Contains("tickets:", rebaseline.Stdout, StringComparison.Ordinal);

        var after = await DeskSyncProcess.RunAsync(Dir, null, ["run", "--config", Config, .. target, "--once"]);
        Assert.True(after.ExitCode == 0, after.Stderr);
        Assert.True(StatusJson()["journalMismatch"].ValueKind == JsonValueKind.Null);
    }

    private Dictionary<string, JsonElement> StatusJson()
    {
        var status = DeskSyncProcess.RunAsync(Dir, null, ["status", "--config", Config, "--target", "sqlite:" + Path.Combine(Dir, "out.db"), "--json"]).GetAwaiter().GetResult();
        Assert.True(status.ExitCode == 0, status.Stderr);
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(status.Stdout)!;
    }
}
