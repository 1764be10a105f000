namespace DeskSync.Bench;

/// <summary>Webhook ingest: events a second on disk before their 200, and the lag to the target.</summary>
internal sealed partial class Benches
{
    internal async Task Ingest(int seconds, int concurrency)
    {
        const string Org = "60012345678";
        var token = ServiceUrlToken.New();
        await using var journal = DeskSync.Core.Journal.DurableJournal.Open(Path.Combine(work, "journal"));
        await using var server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "http://127.0.0.1:0" }, journal,
            new WebhookReceiverOptions { Token = token, OrgId = Org, QuarantineDirectory = Path.Combine(work, "q") });
        var url = new Uri(server.Address, "hooks/" + token);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 });
        var id = 0L;
        StringContent Body()
        {
            var n = Interlocked.Increment(ref id);
            return new StringContent($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"eventTime\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\",\"payload\":{{\"id\":\"{n}\",\"modifiedTime\":\"2026-11-27T10:00:00.000Z\",\"status\":\"Open\",\"subject\":\"benchmark event {n}\"}}}}]", Encoding.UTF8, "application/json");
        }

        // Sustained: closed loop, `concurrency` senders, one event per delivery.
        var watch = Stopwatch.StartNew();
        var done = await SustainedAsync(http, url, Body, seconds, concurrency);
        Report($"webhook ingest, sustained, {concurrency} concurrent senders, fsync before 200", $"{done / watch.Elapsed.TotalSeconds:N0} events/s acknowledged ({journal.Appended:N0} appends in {journal.Flushes:N0} flushes)",
            $"ingest --seconds {seconds} --concurrency {concurrency}");

        await IngestWithWrk(url, journal, seconds, Org);

        foreach (var rate in new[] { 1_000, 5_000 })
        {
            var (p50, p99, n) = await AckLatencyAsync(http, url, Body, rate, Math.Min(seconds, 5));
            Report($"webhook ack latency at {rate:N0} events/s offered (one event per delivery)", $"p50 {p50:N1} ms, p99 {p99:N1} ms over {n:N0} deliveries", $"ingest --seconds {seconds}");
        }

        await EndToEndLag(seconds);
    }

    /// <summary>Deliveries acknowledged by `concurrency` senders posting as fast as they are answered.</summary>
    internal static async Task<long> SustainedAsync(HttpClient http, Uri url, Func<StringContent> body, int seconds, int concurrency)
    {
        var done = 0L;
        var stopAt = DateTime.UtcNow.AddSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (DateTime.UtcNow < stopAt)
            {
                using var r = await http.PostAsync(url, body());
                if (r.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref done);
                }
            }
        }));
        return done;
    }

    /// <summary>Time to the 200 of deliveries sent at a fixed rate (open loop: a slow answer does not slow the sender).</summary>
    internal static async Task<(double P50, double P99, int Count)> AckLatencyAsync(HttpClient http, Uri url, Func<StringContent> body, int rate, int seconds)
    {
        var latencies = new ConcurrentBag<double>();
        var sends = new List<Task>();
        var interval = 1.0 / rate;
        var start = Stopwatch.GetTimestamp();
        var total = rate * seconds;
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * interval * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < due)
            {
                if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 1000)
                {
                    await Task.Delay(1);
                }
            }

            sends.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                using var r = await http.PostAsync(url, body());
                latencies.Add(r.IsSuccessStatusCode ? Stopwatch.GetElapsedTime(t0).TotalMilliseconds : double.PositiveInfinity);
            }));
        }

        await Task.WhenAll(sends);
        var sorted = latencies.Order().ToArray();
        return (sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)], sorted.Length);
    }

    // The same sustained figure with the load coming from wrk (a C load generator, Debian's wrk
    // package) instead of .NET's HttpClient in this process, which takes a core of its own: closer
    // to what the receiver takes when Zoho is the sender. Events counted are the journal's appends.

    private async Task IngestWithWrk(Uri url, DeskSync.Core.Journal.DurableJournal journal, int seconds, string org)
    {
        var wrk = new[] { "/usr/bin/wrk", "/usr/local/bin/wrk" }.FirstOrDefault(File.Exists);
        if (wrk is null)
        {
            Console.WriteLine("(wrk not installed: apt-get install -y wrk for the external-load figure)");
            return;
        }

        foreach (var connections in new[] { 64, 256 })
        {
            // Each run's events differ from the last run's: the receiver acknowledges a repeat without journaling it.
            var run = Guid.NewGuid().ToString("N")[..8];
            var script = Path.Combine(work, "post.lua");
            await File.WriteAllTextAsync(script,
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nlocal n = 0\n" +
                "request = function()\n  n = n + 1\n  local body = '[{\"eventType\":\"Ticket_Update\",\"orgId\":\"" + org +
                "\",\"eventTime\":\"1790000000000\",\"payload\":{\"id\":\"" + run + "-' .. n .. '\",\"modifiedTime\":\"2026-11-27T10:00:00.000Z\",\"status\":\"Open\",\"subject\":\"benchmark event ' .. n .. '\"}}]'\n" +
                "  return wrk.format(nil, nil, nil, body)\nend\n");
            var before = journal.Appended;
            var flushesBefore = journal.Flushes;
            var cpu = CpuTime();
            var info = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-t", "1", "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s", "--latency", "-s", script, url.ToString() })
            {
                info.ArgumentList.Add(a);
            }

            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            var appended = journal.Appended - before;
            string Line(string prefix) => output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? prefix + " ?";
            Report($"webhook ingest, sustained, wrk with {connections} connections, fsync before 200", $"{appended / (double)seconds:N0} events/s acknowledged and journaled ({appended:N0} in {journal.Flushes - flushesBefore:N0} flushes); wrk: {Line("Requests/sec:")}, latency {Line("50%")}, {Line("99%")}; {(output.Contains("Non-2xx", StringComparison.Ordinal) ? Line("Non-2xx") : "every response 200")}; receiver {CpuMicros(cpu, appended, "an event")}",
                $"ingest --seconds {seconds} (wrk installed)");
        }
    }

    private async Task EndToEndLag(int seconds)
    {
        var (emulator, client) = await Portal(500, 25);
        await using (emulator)
        {
            var sink = new TimingSink(new SqliteSink(Path.Combine(work, "lag.db"), SinkMode.Flat));
            var token = ServiceUrlToken.New();
            await using var sync = new RealtimeSync(client, sink, new RealtimeSyncOptions
            {
                Tables = [DeskStreams.Tickets],
                Server = new WebhookServerOptions { Listen = "http://127.0.0.1:0" },
                JournalDirectory = Path.Combine(work, "lag-journal"),
                Token = token,
                OrgId = emulator.Portal.OrgId,
            });
            await sync.StartReceiverAsync(CancellationToken.None);
            await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), [DeskStreams.Tickets], "bench", CancellationToken.None);
            using var stop = new CancellationTokenSource();
            var run = sync.RunAsync(null, stop.Token);
            while (!sync.Streaming)
            {
                await Task.Delay(10);
            }

            var ids = emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).ToList();
            var changed = new ConcurrentDictionary<string, long>();
            var random = new Random(1);
            var until = DateTime.UtcNow.AddSeconds(Math.Min(seconds, 5));
            var count = 0;
            while (DateTime.UtcNow < until)
            {
                var id = ids[random.Next(ids.Count)];
                var version = Interlocked.Increment(ref count);
                emulator.Portal.Update("tickets", id, new JsonObject { ["subject"] = $"v{version}" });
                sink.Expect($"{id}/v{version}", Stopwatch.GetTimestamp());
                await Task.Delay(2);
            }

            await emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
            await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await run;
            var lags = sink.Lags().Order().ToArray();
            Report("end-to-end lag, change in Zoho (emulator) to row in SQLite", $"p50 {lags[lags.Length / 2]:N1} ms, p99 {lags[(int)(lags.Length * 0.99)]:N1} ms over {lags.Length:N0} changes", $"ingest --seconds {seconds}");
        }
    }

    // `desksync emulator` in a process of its own: the emulator's CPU and memory are not DeskSync's.
}
