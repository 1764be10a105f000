using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Reliability;

/// <summary>
/// `desksync run` killed with SIGKILL 20 times at random points — during the full load, while
/// it applies, and while four clients keep posting (so during journal writes) — into a JSONL
/// change log, where a record written twice would show as a second line.
/// </summary>
[Trait(Lanes.Key, Lanes.Process)]
[RunsLong]
public sealed class RunCrashRoundsTests() : EmulatorProcessTest(["--tickets", Tickets.ToString(CultureInfo.InvariantCulture), "--latency-ms", "150"], connect: true)
{
    private const int Tickets = 6_000;
    private const int Rounds = 20;

    /// <summary>
    /// On a slow or busy machine the load can outlast many rounds (under four busy loops on two
    /// cores it took nineteen, each resuming from the last): rounds go on until both phases have
    /// had two kills, up to this many.
    /// </summary>
    private const int MaxRounds = 40;

    [Fact]
    public async Task Twenty_SIGKILLs_at_random_points_lose_nothing_and_write_nothing_twice()
    {
        var output = Path.Combine(Dir, "out");
        // Port 0: each round's process binds a port of its own and says which; the posters follow it.
        string[] args = ["run", "--config", Config, "--tables", "tickets", "--target", "jsonl:" + output, "--listen", "http://127.0.0.1:0", "--admin-listen", "http://127.0.0.1:0"];
        Uri? receiver = null;
        var random = new Random(8);
        var acked = new ConcurrentBag<string>();
        var sent = 0L;
        var killedDuringLoad = 0;
        var killedWhileStreaming = 0;
        var tokenFile = Path.Combine(Dir, ".desksync", "secrets", "default.service-token.json");

        using var stop = new CancellationTokenSource();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var posters = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var at = Volatile.Read(ref receiver);
                if (at is null || !File.Exists(tokenFile))
                {
                    await Task.Delay(20);
                    continue;
                }

                var token = JsonDocument.Parse(await File.ReadAllTextAsync(tokenFile)).RootElement.GetProperty("Token").GetString();
                var ids = Enumerable.Range(0, 1 + (int)(Interlocked.Increment(ref sent) % 3)).Select(_ => (9_000_000_000L + Interlocked.Increment(ref sent)).ToString(CultureInfo.InvariantCulture)).ToList();
                if (await Webhook.TryDeliverAsync(http, new Uri(at, $"hooks/{token}"), Webhook.TicketAdds(Emulator.Value("orgId"), ids)))
                {
                    ids.ForEach(acked.Add);
                }
                else
                {
                    await Task.Delay(5); // the receiver is down between rounds
                }
            }
        })).ToArray();

        for (var round = 0; round < Rounds || (round < MaxRounds && (killedDuringLoad < 2 || killedWhileStreaming < 2)); round++)
        {
            using var run = Process.Start(DeskSyncProcess.StartInfo(Dir, args))!;
            var lines = new ConcurrentQueue<string>();
            var reader = Task.Run(async () =>
            {
                while (await run.StandardError.ReadLineAsync() is { } line)
                {
                    lines.Enqueue(line);
                }
            });
            _ = run.StandardOutput.ReadToEndAsync();

            // Wait until it listens (the receiver starts before the load), then a random while.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            Uri? listening;
            while ((listening = Webhook.ReceivingAt(lines)) is null)
            {
                Assert.True(DateTime.UtcNow < deadline && !run.HasExited, "run did not start: " + string.Join('\n', lines));
                await Task.Delay(10);
            }

            Volatile.Write(ref receiver, listening);

            if (round < 4)
            {
                // The first rounds kill inside the full load (a load of 6,000 tickets takes about a
                // second at 150 ms a call, a resumed one less): soon after it starts, or not at all
                // if an earlier round already finished it.
                while (!lines.Any(l => l.StartsWith("tickets: ", StringComparison.Ordinal)))
                {
                    Assert.True(DateTime.UtcNow < deadline && !run.HasExited, "the load did not start: " + string.Join('\n', lines));
                    await Task.Delay(5);
                }

                await Task.Delay(random.Next(0, 250));
            }
            else
            {
                await Task.Delay(random.Next(50, 1_500));
            }

            var loaded = lines.Any(l => l.StartsWith("tickets: loaded", StringComparison.Ordinal) || l.StartsWith("tickets: already loaded", StringComparison.Ordinal));
            run.Kill(); // SIGKILL
            await run.WaitForExitAsync();
            await reader;
            if (loaded)
            {
                killedWhileStreaming++;
            }
            else
            {
                killedDuringLoad++;
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(posters);
        var last = await DeskSyncProcess.RunAsync(Dir, null, [.. args, "--once"]);
        Assert.True(last.ExitCode == 0, last.Stderr);

        var events = (await File.ReadAllLinesAsync(Path.Combine(output, "tickets.jsonl"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var loadedRows = events.Where(e => e.GetProperty("op").GetString() == "r").GroupBy(e => e.GetProperty("id").ToString()).ToDictionary(g => g.Key, g => g.Count());
        var applied = events.Where(e => e.GetProperty("op").GetString() == "c").GroupBy(e => e.GetProperty("id").ToString()).ToDictionary(g => g.Key, g => g.Count());

        Assert.True(killedDuringLoad >= 2 && killedWhileStreaming >= 2, $"{killedDuringLoad} kills fell in the full load, {killedWhileStreaming} while streaming");
        Assert.Equal(Tickets, loadedRows.Count); // every ticket of the emulator was loaded ...
        Assert.All(loadedRows, kv => Assert.True(kv.Value == 1, $"ticket {kv.Key} was written {kv.Value} times by the full load")); // ... once
        Assert.True(acked.Count > 500, $"only {acked.Count} events were acknowledged");
        var missing = acked.Where(id => !applied.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged events were lost, e.g. {string.Join(", ", missing.Take(5))}");
        var twice = applied.Where(kv => kv.Value > 1).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} events were applied more than once");
        Assert.True(applied.Keys.All(id => long.Parse(id, CultureInfo.InvariantCulture) - 9_000_000_000L <= Interlocked.Read(ref sent)), "nothing is applied that was not sent");
    }
}
