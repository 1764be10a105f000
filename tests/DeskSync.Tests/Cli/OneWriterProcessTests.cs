using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>One writer per data source, across real processes: the second is refused and changes nothing; a SIGKILL leaves nothing locked.</summary>
public sealed partial class OneWriterProcessTests() : EmulatorProcessTest(["--tickets", "40"], connect: true)
{
    [Fact]
    public async Task A_second_writer_is_refused_the_first_is_unharmed_and_a_killed_holder_leaves_nothing_locked()
    {
        var output = Path.Combine(Dir, "out");
        string[] target = ["--tables", "tickets", "--target", "jsonl:" + output];
        var lines = new ConcurrentQueue<string>();
        using var run = Process.Start(DeskSyncProcess.StartInfo(Dir, ["run", "--config", Config, .. target, "--listen", "http://127.0.0.1:0"]))!;
        try
        {
            _ = Task.Run(async () =>
            {
                while (await run.StandardError.ReadLineAsync() is { } line)
                {
                    lines.Enqueue(line);
                }
            });
            await WaitForAsync(() => lines.Any(l => l.StartsWith("catch-up:", StringComparison.Ordinal)), "the full load and the catch-up", lines);
            var address = AddressLine().Match(string.Join('\n', lines)).Groups[1].Value;
            var bytesBefore = Directory.GetFiles(output).ToDictionary(f => f, f => new FileInfo(f).Length);

            foreach (var writer in new[] { "sync", "poll" })
            {
                var refused = await DeskSyncProcess.RunAsync(Dir, null, [writer, "--config", Config, .. target]);
                Assert.True(refused.ExitCode == 7, $"{writer}: exit {refused.ExitCode}: {refused.Stderr}");
                Assert.Contains($"in use by `desksync run` (PID {run.Id}", refused.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);
            }

            var status = await DeskSyncProcess.RunAsync(Dir, null, ["status", "--config", Config, "--target", "jsonl:" + output]);
            Assert.True(status.ExitCode == 0, "status only reads: " + status.Stderr);
            Assert.Equal(bytesBefore, Directory.GetFiles(output).ToDictionary(f => f, f => new FileInfo(f).Length));

            // The holder is unharmed: a delivery is still received and applied.
            var token = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Dir, ".desksync", "secrets", "default.service-token.json"))).RootElement.GetProperty("Token").GetString();
            using var http = new HttpClient();
            using var response = await http.PostAsync($"{address}hooks/{token}", Webhook.TicketAdds(Emulator.Value("orgId"), ["9000000000001"]));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await WaitForAsync(() => File.ReadAllText(Path.Combine(output, "tickets.jsonl")).Contains("9000000000001", StringComparison.Ordinal), "the delivery applied", lines);
        }
        finally
        {
            run.Kill(); // SIGKILL: the lock goes with the process
            await run.WaitForExitAsync();
        }

        var after = await DeskSyncProcess.RunAsync(Dir, null, ["sync", "--config", Config, .. target]);
        Assert.True(after.ExitCode == 0, after.Stderr);
    }

    [GeneratedRegex(@"Receiving webhooks on (http://\S+/)")]
    private static partial Regex AddressLine();

    private static async Task WaitForAsync(Func<bool> condition, string what, IEnumerable<string> lines)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; run said:\n{string.Join('\n', lines)}");
            await Task.Delay(20);
        }
    }
}
