namespace DeskSync.Bench;

/// <summary>Full loads against the emulator, in process or in its own process.</summary>
internal sealed partial class Benches
{
    private async Task<(ZohoDeskEmulator Emulator, DeskClient Client)> Portal(int tickets, int cap, EmulatorOptions? extra = null)
    {
        var emulator = await ZohoDeskEmulator.StartAsync((extra ?? new EmulatorOptions()) with
        {
            Counts = new TableCounts { Tickets = tickets, Contacts = 200, Accounts = 50, Products = 20, Contracts = 10, Tasks = 20, Agents = 10, Teams = 3, Departments = 3 },
            ConcurrencyCap = cap,
            DailyCredits = 100_000_000,
        });
        return (emulator, await Connect(emulator.BaseUrl, emulator.Client.ClientId, emulator.Client.ClientSecret, emulator.MintGrantCode().Code, emulator.Portal.OrgId, cap));
    }

    private async Task<DeskClient> Connect(Uri url, string clientId, string secret, string code, string orgId, int cap)
    {
        var endpoints = ZohoEndpoints.For(ZohoDataCenter.Parse("US"), url.ToString(), url.ToString());
        var tokens = new ZohoTokenManager(new HttpClient(), endpoints, new OAuthClientCredentials(clientId, secret), new InMemoryTokenStore());
        await tokens.ExchangeGrantCodeAsync(code, CancellationToken.None);
        var options = new DeskClientOptions { OrgId = orgId, MaxConcurrency = cap, CreditReserve = 0 };
        var log = new ApiCallLog();
        return new DeskClient(DeskHttp.CreateClient(options, log, inner: calls), endpoints, tokens, options, log);
    }

    private async Task<TableLoadResult> LoadTickets(DeskClient client, ISink sink)
    {
        await using (sink)
        {
            return (await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None)).Single();
        }
    }

    internal async Task FullLoadThroughput(int tickets, int latencyMs, int cap)
    {
        var (emulator, client) = await Portal(tickets, cap);
        await using (emulator)
        {
            emulator.Faults.Latency = TimeSpan.FromMilliseconds(latencyMs);
            var r = await LoadTickets(client, new SqliteSink(Path.Combine(work, $"fl-{cap}.db"), SinkMode.Flat));
            var rate = r.Rows / r.Elapsed.TotalSeconds;
            var ceiling = cap * 100 / (latencyMs / 1000.0);
            Report($"full load, {latencyMs} ms per call, cap {cap}", $"{rate:N0} tickets/s, {r.Calls} calls, {r.Credits} credits in {r.Elapsed.TotalSeconds:N1} s; ceiling {ceiling:N0}/s; ratio {rate / ceiling:N2}; peak concurrency {emulator.Limits.PeakInFlight}",
                $"fullload --tickets {tickets} --latency-ms {latencyMs} --cap {cap}");
        }
    }

    // To profile one part: --only values|stage|read|end-to-end, --mode flat|document, --repeat n (the stage, the read side or the end-to-end runs n times).
    // --page-size n: the SQLite files' page size (DeskSync makes new files with 16 KB pages; 4096 is SQLite's default, for comparison).
    // --wal-restart-mb n: the WAL size at which the writer is asked to start the WAL over (see SqliteSink.WalRestartBytes).
    // --commit-rows n: the stage alone commits the load's rows n at a time: 500, as a load does when the target holds it back; 100, a page a commit.
    // --cap n: calls in flight (25 by default); at zero latency it only sets how many requests the in-process emulator serves at once.

    private async Task<(Process Process, JsonNode Details)> EmulatorProcess(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { CliPath(), "emulator", "--port", "0", "--json" }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        var emulator = Process.Start(info)!;
        return (emulator, JsonNode.Parse((await emulator.StandardOutput.ReadLineAsync())!)!);
    }

    private async Task<(Process Process, DeskClient Client)> ExternalEmulator(int tickets, int latencyMs, int cap, bool gzip = false)
    {
        var (emulator, details) = await EmulatorProcess(["--tickets", tickets.ToString(CultureInfo.InvariantCulture), "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture), .. gzip ? new[] { "--gzip" } : []]);
        var client = await Connect(new Uri(details["url"]!.GetValue<string>()), details["clientId"]!.GetValue<string>(), details["clientSecret"]!.GetValue<string>(),
            details["grantCode"]!.GetValue<string>(), details["orgId"]!.GetValue<string>(), cap);
        return (emulator, client);
    }

    // Every table of the portal, as `desksync sync` loads them: field definitions, then the tables together.

    internal async Task FullLoadPortal(int tickets, int latencyMs, int cap)
    {
        var (emulator, client) = await ExternalEmulator(tickets, latencyMs, cap);
        try
        {
            async Task<(IReadOnlyList<TableLoadResult> Results, TimeSpan Elapsed)> Load(string name)
            {
                var watch = Stopwatch.StartNew();
                await using var sink = new SqliteSink(Path.Combine(work, name), SinkMode.Flat);
                var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.Default, null, CancellationToken.None);
                return (results, watch.Elapsed);
            }

            await Load("portal-warm.db"); // the emulator shapes each record on its first read
            calls.Clear();
            var (results, elapsed) = await Load("portal.db");
            Console.WriteLine($"(calls in flight, each 0.25 s: {calls.Timeline(TimeSpan.FromSeconds(0.25))})");
            Console.WriteLine($"(the first five calls, ms from the first one's start: {calls.Opening(5)})");
            var slowest = results.MaxBy(r => r.Elapsed)!;
            Report($"full load of every table ({results.Count}), {latencyMs} ms per call, cap {cap}, emulator in another process (warmed), SQLite flat",
                $"{elapsed.TotalSeconds:N2} s for {results.Sum(r => r.Rows):N0} rows, {results.Sum(r => r.Calls):N0} calls, {results.Sum(r => r.Credits):N0} credits (field definitions included); the slowest table, {slowest.Table.Name}, {slowest.Elapsed.TotalSeconds:N2} s",
                $"fullload --all-tables --tickets {tickets} --latency-ms {latencyMs} --cap {cap}");
        }
        finally
        {
            emulator.Kill(entireProcessTree: true);
            emulator.Dispose();
        }
    }

    // --gzip: the emulator compresses its answers (DeskSync always asks); the loopback's bytes a ticket show the difference.

    internal async Task FullLoadExternal(int tickets, int latencyMs, int cap, string mode, bool raw, bool gzip)
    {
        var (emulator, client) = await ExternalEmulator(tickets, latencyMs, cap, gzip);
        try
        {
            var sinkMode = mode == "document" ? SinkMode.Document : SinkMode.Flat;
            // A first load warms the emulator's answer cache (rendering 100 tickets from the OpenAPI
            // schema costs the emulator more CPU than DeskSync spends on them, on the same two cores)
            // and DeskSync's JIT; the second load is the figure.
            var cold = await LoadTickets(client, new NullSink());
            Console.WriteLine($"(warm-up, read side only, cold emulator: {cold.Rows / cold.Elapsed.TotalSeconds:N0} tickets/s)");
            calls.Clear();
            var ours = CpuTime().Cpu;
            emulator.Refresh();
            var theirs = emulator.TotalProcessorTime;
            var loopback = LoopbackBytes();
            ISink target = mode == "none" ? new NullSink() : new SqliteSink(Path.Combine(work, $"fle-{cap}.db"), sinkMode) { RawColumn = raw };
            var r = await LoadTickets(client, target);
            emulator.Refresh();
            var (inFlight, meanCall, callCount) = calls.Summary();
            Console.WriteLine($"(calls in flight, each 0.25 s: {calls.Timeline(TimeSpan.FromSeconds(0.25))})");
            Console.WriteLine($"(the first five calls, ms from the first one's start: {calls.Opening(5)})");
            Console.WriteLine($"(a call, ms: p10 / p50 / p90 / p99 / longest: {calls.Percentiles()})");
            var rate = r.Rows / r.Elapsed.TotalSeconds;
            var ceiling = cap * 100 / (latencyMs / 1000.0);
            var (ourCpu, theirCpu) = (CpuTime().Cpu - ours, emulator.TotalProcessorTime - theirs);
            // At zero latency there is no ceiling; what is left to tell is each process's CPU a ticket.
            var ratio = latencyMs > 0 ? $"ceiling {ceiling:N0}/s; ratio {rate / ceiling:N2}; " : "";
            var perTicket = string.Create(CultureInfo.InvariantCulture, $" = {ourCpu.TotalMicroseconds / Math.Max(1, r.Rows):N1} and {theirCpu.TotalMicroseconds / Math.Max(1, r.Rows):N1} µs a ticket")
                + (LoopbackBytes() - loopback is var bytes && bytes > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {bytes / 1024.0 / Math.Max(1, r.Rows):N2} KB a ticket over the loopback{(gzip ? ", answers compressed" : "")}") : "");
            Report($"full load, {latencyMs} ms per call, cap {cap}, emulator in another process (warmed), {(mode == "none" ? "no target" : "SQLite " + mode)}{(raw ? "" : " without _raw")}", $"{rate:N0} tickets/s, {r.Calls} calls, {r.Credits} credits in {r.Elapsed.TotalSeconds:N1} s; {ratio}"
                + $"{inFlight:N1} calls in flight on average ({callCount} timed), a call {meanCall.TotalMilliseconds:N1} ms; CPU: DeskSync {ourCpu / r.Elapsed:N2} cores, emulator {theirCpu / r.Elapsed:N2} (of {Environment.ProcessorCount}){perTicket}",
                $"fullload --external --tickets {tickets} --latency-ms {latencyMs} --cap {cap} --mode {mode}{(raw ? "" : " --no-raw")}{(gzip ? " --gzip" : "")}");
        }
        finally
        {
            emulator.Kill(entireProcessTree: true);
            emulator.Dispose();
        }
    }

    // Peak RSS of the real `desksync sync` process (not this harness), read by GNU time, with the
    // emulator in a process of its own.
}
