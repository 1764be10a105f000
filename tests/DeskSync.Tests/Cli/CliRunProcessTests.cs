using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>`desksync run` as a process: SIGKILL while clients post, restart, every acknowledged event applied exactly once.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class CliRunProcessTests() : EmulatorProcessTest(["--tickets", "120"], connect: true)
{
    [Fact]
    public async Task Every_event_acknowledged_before_a_SIGKILL_is_applied_exactly_once_after_restart()
    {
        var output = Path.Combine(Dir, "out");
        string[] args = ["run", "--config", Emulator.Config, "--tables", "tickets", "--target", "jsonl:" + output, "--listen", "http://127.0.0.1:0", "--admin-listen", "http://127.0.0.1:0"];
        var acked = new ConcurrentBag<string>();
        var sent = 0;

        using (var run = Process.Start(DeskSyncProcess.StartInfo(Dir, args))!)
        {
            var lines = new ConcurrentQueue<string>();
            _ = Task.Run(async () =>
            {
                while (await run.StandardError.ReadLineAsync() is { } line)
                {
                    lines.Enqueue(line);
                }
            });
            await Eventually.UntilAsync(() => lines.Any(l => l.StartsWith("tickets: loaded", StringComparison.Ordinal)), "the full load");
            var token = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Dir, ".desksync", "secrets", "default.service-token.json"))).RootElement.GetProperty("Token").GetString();
            var url = new Uri(Webhook.ReceivingAt(lines) ?? throw new InvalidOperationException("run did not say where it receives:\n" + string.Join('\n', lines)), $"hooks/{token}");

            using var stop = new CancellationTokenSource();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var posters = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var ids = Enumerable.Range(0, 1 + (Interlocked.Increment(ref sent) % 3)).Select(_ => (9_000_000_000L + Interlocked.Increment(ref sent)).ToString(CultureInfo.InvariantCulture)).ToList();
                    if (await Webhook.TryDeliverAsync(http, url, Webhook.TicketAdds(Emulator.Value("orgId"), ids)))
                    {
                        ids.ForEach(acked.Add);
                    }
                    else
                    {
                        await Task.Delay(5); // the receiver is gone
                    }
                }
            })).ToArray();

            await Eventually.UntilAsync(() => acked.Count > 400, "acknowledged events");
            run.Kill(); // SIGKILL, while the posters keep posting
            await run.WaitForExitAsync();
            await Task.Delay(200);
            await stop.CancelAsync();
            await Task.WhenAll(posters);
        }

        Assert.NotEmpty(acked);
        var restart = await DeskSyncProcess.RunAsync(Dir, null, [.. args, "--once"]);
        Assert.True(restart.ExitCode == 0, restart.Stderr);
        Assert.Contains("tickets: already loaded", restart.Stderr, StringComparison.Ordinal);

        var applied = (await File.ReadAllLinesAsync(Path.Combine(output, "tickets.jsonl")))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("op").GetString() == "c")
            .GroupBy(e => e.GetProperty("id").ToString())
            .ToDictionary(g => g.Key, g => g.Count());
        var missing = acked.Where(id => !applied.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged events were lost, e.g. {string.Join(", ", missing.Take(5))}");
        var twice = applied.Where(kv => kv.Value > 1).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} events were applied more than once");
        Assert.True(applied.Count <= sent, "nothing is applied that was not sent");
    }
}
