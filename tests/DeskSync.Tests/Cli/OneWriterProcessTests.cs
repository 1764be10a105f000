using System.Net;
using System.Text.Json;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>One writer per data source, across real processes: the second is refused and changes nothing; a SIGKILL leaves nothing locked.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class OneWriterProcessTests() : EmulatorProcessTest(["--tickets", "40"], connect: true)
{
    [Fact]
    public async Task A_second_writer_is_refused_the_first_is_unharmed_and_a_killed_holder_leaves_nothing_locked()
    {
        var output = Path.Combine(Dir, "out");
        string[] target = ["--tables", "tickets", "--target", "jsonl:" + output];
        await using (var run = RunningDeskSync.Start(Dir, ["run", "--config", Config, .. target, "--listen", "http://127.0.0.1:0"]))
        {
            await run.WaitForLineAsync("catch-up:", "the full load and the catch-up");
            var bytesBefore = Directory.GetFiles(output).ToDictionary(f => f, f => new FileInfo(f).Length);

            foreach (var writer in new[] { "sync", "poll" })
            {
                var refused = await DeskSyncProcess.RunAsync(Dir, null, [writer, "--config", Config, .. target]);
                Assert.True(refused.ExitCode == 7, $"{writer}: exit {refused.ExitCode}: {refused.Stderr}");
                Assert.Contains($"in use by `desksync run` (PID {run.Process.Id}", refused.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);
            }

            var status = await DeskSyncProcess.RunAsync(Dir, null, ["status", "--config", Config, "--target", "jsonl:" + output]);
            Assert.True(status.ExitCode == 0, "status only reads: " + status.Stderr);
            Assert.Equal(bytesBefore, Directory.GetFiles(output).ToDictionary(f => f, f => new FileInfo(f).Length));

            // The holder is unharmed: a delivery is still received and applied.
            var token = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Dir, ".desksync", "secrets", "default.service-token.json"))).RootElement.GetProperty("Token").GetString();
            using var http = new HttpClient();
            using var response = await http.PostAsync($"{run.Address}hooks/{token}", Webhook.TicketAdds(Emulator.Value("orgId"), ["9000000000001"]));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await run.WaitForAsync(() => File.ReadAllText(Path.Combine(output, "tickets.jsonl")).Contains("9000000000001", StringComparison.Ordinal), "the delivery applied");
        } // SIGKILL: the lock goes with the process

        var after = await DeskSyncProcess.RunAsync(Dir, null, ["sync", "--config", Config, .. target]);
        Assert.True(after.ExitCode == 0, after.Stderr);
    }
}
