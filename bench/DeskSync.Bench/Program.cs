using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DeskSync.Bench;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sqlite;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Regions;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Webhooks;

// Benchmarks print figures with the command that reproduces each; they are not tests.
var command = args.FirstOrDefault() ?? "help";
var opts = Args.Parse(args.Skip(1));
var work = Directory.CreateTempSubdirectory("desksync-bench-").FullName;
var calls = new CallTimer();
try
{
    switch (command)
    {
        case "fullload":
            if (opts.Text("all-tables") is not null)
            {
                await FullLoadPortal(opts.Int("tickets", 20_000), opts.Int("latency-ms", 150), opts.Int("cap", 25));
            }
            else if (opts.Text("external") is not null)
            {
                await FullLoadExternal(opts.Int("tickets", 20_000), opts.Int("latency-ms", 150), opts.Int("cap", 10), opts.Text("mode") ?? "flat", raw: opts.Text("no-raw") is null, gzip: opts.Text("gzip") is not null);
            }
            else
            {
                await FullLoadThroughput(opts.Int("tickets", 20_000), opts.Int("latency-ms", 150), opts.Int("cap", 10));
            }

            break;
        case "overhead":
            await Overhead(opts.Int("tickets", 100_000), opts.Text("pg"), opts.Text("only"), opts.Text("mode"), opts.Int("repeat", 1), opts.Int("page-size", 16384), opts.Int("commit-rows", 500), opts.Int("wal-restart-mb", 0), opts.Int("cap", 25));
            break;
        case "economy":
            await Economy(opts.Int("tickets", 1_000));
            break;
        case "ingest":
            await Ingest(opts.Int("seconds", 10), opts.Int("concurrency", 64));
            break;
        case "memory":
            await Memory(opts.Int("tickets", 1_000_000));
            break;
        case "smoke":
            await FullLoadThroughput(2_000, 5, 10);
            await Economy(300);
            break;
        default:
            Console.WriteLine("dotnet run -c Release --project bench/DeskSync.Bench -- fullload|overhead|economy|ingest|memory|smoke [--option value …]");
            break;
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

async Task<(ZohoDeskEmulator Emulator, DeskClient Client)> Portal(int tickets, int cap, EmulatorOptions? extra = null)
{
    var emulator = await ZohoDeskEmulator.StartAsync((extra ?? new EmulatorOptions()) with
    {
        Counts = new TableCounts { Tickets = tickets, Contacts = 200, Accounts = 50, Products = 20, Contracts = 10, Tasks = 20, Agents = 10, Teams = 3, Departments = 3 },
        ConcurrencyCap = cap,
        DailyCredits = 100_000_000,
    });
    return (emulator, await Connect(emulator.BaseUrl, emulator.Client.ClientId, emulator.Client.ClientSecret, emulator.MintGrantCode().Code, emulator.Portal.OrgId, cap));
}

async Task<DeskClient> Connect(Uri url, string clientId, string secret, string code, string orgId, int cap)
{
    var endpoints = ZohoEndpoints.For(ZohoDataCenter.Parse("US"), url.ToString(), url.ToString());
    var tokens = new ZohoTokenManager(new HttpClient(), endpoints, new OAuthClientCredentials(clientId, secret), new InMemoryTokenStore());
    await tokens.ExchangeGrantCodeAsync(code, CancellationToken.None);
    var options = new DeskClientOptions { OrgId = orgId, MaxConcurrency = cap, CreditReserve = 0 };
    var log = new ApiCallLog();
    return new DeskClient(DeskHttp.CreateClient(options, log, inner: calls), endpoints, tokens, options, log);
}

async Task<TableLoadResult> LoadTickets(DeskClient client, ISink sink)
{
    await using (sink)
    {
        return (await new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None)).Single();
    }
}

async Task FullLoadThroughput(int tickets, int latencyMs, int cap)
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
async Task Overhead(int tickets, string? pg, string? only, string? onlyMode, int repeat, int pageSize, int commitRows, int walRestartMb, int cap)
{
    var pages = (pageSize == 16384 ? "" : $" --page-size {pageSize}") + (cap == 25 ? "" : $" --cap {cap}") + (commitRows == 500 ? "" : $" --commit-rows {commitRows}") + (walRestartMb == 0 ? "" : $" --wal-restart-mb {walRestartMb}");
    var walRestart = walRestartMb == 0 ? SqliteSink.DefaultWalRestartBytes : (long)walRestartMb << 20;
    var targets = new List<(string Name, Func<SinkMode, ISink> Sink)>
    {
        ("no target (read side only)", _ => new NullSink()),
        ("SQLite", m => new SqliteSink(Path.Combine(work, $"oh-{m}-{Guid.NewGuid():N}.db"), m) { NewFilePageSize = pageSize, WalRestartBytes = walRestart }),
        ("SQLite without _raw", m => new SqliteSink(Path.Combine(work, $"oh-{m}-{Guid.NewGuid():N}.db"), m) { RawColumn = false, NewFilePageSize = pageSize, WalRestartBytes = walRestart }),
    };
    if (pg is not null)
    {
        targets.Add(("PostgreSQL", m => new PostgresSink(pg, m, "bench_" + Guid.NewGuid().ToString("N")[..8])));
        targets.Add(("PostgreSQL without _raw", m => new PostgresSink(pg, m, "bench_" + Guid.NewGuid().ToString("N")[..8]) { RawColumn = false }));
    }

    // One emulator for all runs, warmed by a first load: its answers are then built once and cached,
    // so the figures measure DeskSync (HTTP client, parsing, conversion, target) more than the emulator.
    var (emulator, client) = await Portal(tickets, 25);
    await using (emulator)
    {
        var captured = new NullSink(capture: true);
        await LoadTickets(client, captured);

        // Building the row values alone (no database): what the flat layout costs before any SQL.
        for (var pass = 0; pass < (only is null or "values" ? 3 : 0); pass++)
        {
            var layout = DeskSync.Sinks.Sql.TableLayout.For(captured.Batches[0].Schema, SinkMode.Flat);
            var watch = Stopwatch.StartNew();
            var rows = 0;
            long nonNull = 0;
            foreach (var (_, events) in captured.Batches)
            {
                foreach (var e in events)
                {
                    foreach (var value in layout.Values(e, DateTimeOffset.UtcNow))
                    {
                        nonNull += value is null ? 0 : 1;
                    }

                    rows++;
                }
            }

            Report("overhead, flat row values alone (no database)", $"{rows / watch.Elapsed.TotalSeconds:N0} tickets/s ({layout.Columns.Count} columns, {nonNull / Math.Max(1, rows)} non-null a row)", $"overhead --tickets {tickets}");
        }

        // The target stage alone: the same batches the load wrote, replayed straight into the sink.
        foreach (var (name, make) in targets.Skip(1).Where(_ => only is null or "stage"))
        {
            foreach (var mode in Enumerable.Repeat(Modes(name), repeat).SelectMany(m => m).Where(m => onlyMode is null || m.ToString().Equals(onlyMode, StringComparison.OrdinalIgnoreCase)))
            {
                GC.Collect();
                var sink = make(mode);
                await sink.InitializeAsync(CancellationToken.None);
                await sink.EnsureTableAsync(captured.Batches[0].Schema, CancellationToken.None);
                var watch = Stopwatch.StartNew();
                var cpu = CpuTime();
                var rows = 0;
                var commits = 0;
                foreach (var events in captured.Batches.SelectMany(b => b.Events).Chunk(commitRows))
                {
                    await sink.ApplyAsync(captured.Batches[0].Schema, events, new Checkpoint("bench", rows.ToString(CultureInfo.InvariantCulture)), CancellationToken.None);
                    rows += events.Length;
                    commits++;
                }

                Report($"overhead, target stage alone, {name} {mode.ToString().ToLowerInvariant()}", $"{rows / watch.Elapsed.TotalSeconds:N0} tickets/s ({rows:N0} in {watch.Elapsed.TotalSeconds:N1} s, commits of ~{rows / Math.Max(1, commits)}; {CpuMicros(cpu, rows)})",
                    $"overhead --tickets {tickets}{pages}{(pg is null ? "" : " --pg \"…\"")}");
                await sink.DisposeAsync();
                Discard(sink, pg);
            }
        }

        // The captured batches (every ticket, copied) would otherwise stay live for the collector to
        // walk through on each full collection during the runs below, which do not use them.
        captured.Batches.Clear();
        GC.Collect();

        var readOnly = targets[0];
        var runs = new List<(string What, double Rate, double Micros, double Cores)>();
        foreach (var (name, make) in only == "read" ? Enumerable.Repeat(readOnly, repeat) : Enumerable.Repeat(targets.Where(_ => only is null or "end-to-end"), repeat).SelectMany(t => t))
        {
            foreach (var mode in (name.StartsWith("no target", StringComparison.Ordinal) ? new[] { SinkMode.Document } : Modes(name))
                .Where(m => onlyMode is null || m.ToString().Equals(onlyMode, StringComparison.OrdinalIgnoreCase)))
            {
                // The in-process emulator holds every ticket as JSON nodes (1.75 GB for 50,000): a full
                // collection inside a run walks them all, 10–20 µs a ticket that are not DeskSync's.
                // Each run starts after one, so that its own budget decides whether it needs another.
                GC.Collect();
                var cpu = CpuTime();
                var sink = new BusySink(make(mode));
                var r = await LoadTickets(client, sink);
                // The process's CPU over the run's wall time: below the machine's cores, some of the
                // run waited on one thread (the writer) while the others had nothing left to do.
                var spent = CpuTime().Cpu - cpu.Cpu;
                var cores = spent / r.Elapsed;
                runs.Add(($"{name} {mode.ToString().ToLowerInvariant()}", r.Rows / r.Elapsed.TotalSeconds, spent.TotalMicroseconds / Math.Max(1, r.Rows), cores));
                Discard(sink.Inner, pg);
                // When the commits fill the run, the writer is what holds the load back; a WAL restart shows as the longest commit.
                var writer = string.Create(CultureInfo.InvariantCulture, $"; {sink.Commits:N0} commits of ~{r.Rows / Math.Max(1, sink.Commits):N0} rows, {sink.Busy / r.Elapsed:P0} of the run, the longest {sink.Longest.TotalMilliseconds:N0} ms")
                    + (sink.Inner is SqliteSink q ? $", {q.WalRestarts.Requested + q.WalRestarts.Forced} WAL restarts" : "")
                    + (sink.Split is { } split ? string.Create(CultureInfo.InvariantCulture, $"; inside them the writer's thread ran {split.Running.TotalMilliseconds:N0} ms, waited for a core {split.WaitingForCore.TotalMilliseconds:N0} ms and for the disk or a lock {split.Other.TotalMilliseconds:N0} ms") : "");
                Report($"overhead, zero latency, in-process emulator (warm), {name} {mode.ToString().ToLowerInvariant()}", $"{r.Rows / r.Elapsed.TotalSeconds:N0} complete tickets/s ({r.Rows:N0} in {r.Elapsed.TotalSeconds:N1} s; {CpuMicros(cpu, r.Rows)}, emulator included; {cores:N2} of {Environment.ProcessorCount} cores busy{writer})",
                    $"overhead --tickets {tickets}{pages}{(pg is null ? "" : " --pg \"…\"")}");
            }
        }

        // This machine's speed varies by a quarter from run to run: with --repeat, each mode's median and range.
        foreach (var group in runs.GroupBy(x => x.What).Where(g => g.Count() > 1))
        {
            var rates = group.Select(x => x.Rate).Order().ToList();
            var micros = group.Select(x => x.Micros).Order().ToList();
            var cores = group.Select(x => x.Cores).Order().ToList();
            Report($"overhead, zero latency, {group.Key}, over {rates.Count} runs", string.Create(CultureInfo.InvariantCulture, $"median {Median(rates):N0} complete tickets/s ({rates[0]:N0}–{rates[^1]:N0}); {Median(micros):N1} µs of CPU a ticket ({micros[0]:N1}–{micros[^1]:N1}); {Median(cores):N2} of {Environment.ProcessorCount} cores busy ({cores[0]:N2}–{cores[^1]:N2})"),
                $"overhead --tickets {tickets}{pages}{(pg is null ? "" : " --pg \"…\"")} --repeat {repeat}{(only is null ? "" : " --only " + only)}{(onlyMode is null ? "" : " --mode " + onlyMode)}");
        }
    }
}

// Bytes sent over the loopback interface so far (Linux's /proc/net/dev; 0 elsewhere): both
// directions of every connection on the machine, which during a load are mostly its answers.
static long LoopbackBytes()
{
    try
    {
        var line = File.ReadLines("/proc/net/dev").Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("lo:", StringComparison.Ordinal));
        var fields = line?[3..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 8 } ? long.Parse(fields[8], CultureInfo.InvariantCulture) : 0;
    }
    catch (IOException)
    {
        return 0;
    }
}

// A measured SQLite file is deleted at once: its pages not yet written back are then dropped
// instead of being written while (and charged to) the next measurement.
// Each run's target goes once measured: a SQLite file's pages would be written back during the
// next run, and PostgreSQL schemas of 50,000 tickets (~200 MB each) would fill the disk.
static void Discard(ISink sink, string? pg = null)
{
    if (sink is SqliteSink sqlite)
    {
        foreach (var file in new[] { sqlite.Path, sqlite.Path + "-wal", sqlite.Path + "-shm" })
        {
            File.Delete(file);
        }
    }
    else if (sink is PostgresSink postgres && pg is not null)
    {
        using var connection = new Npgsql.NpgsqlConnection(pg);
        connection.Open();
        using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{postgres.SchemaName}\" CASCADE", connection);
        drop.ExecuteNonQuery();
    }
}

// "without _raw" is a flat-mode setting.
static SinkMode[] Modes(string target) => target.EndsWith("without _raw", StringComparison.Ordinal) ? [SinkMode.Flat] : [SinkMode.Flat, SinkMode.Document];

async Task Economy(int tickets)
{
    var (emulator, client) = await Portal(tickets, 10);
    await using (emulator)
    {
        var ours = await LoadTickets(client, new SqliteSink(Path.Combine(work, "eco.db"), SinkMode.Flat));
        var before = client.Log.ByLabel.GetValueOrDefault("detail-strategy");
        var ids = new List<string>();
        foreach (var department in emulator.Portal.List("departments").Select(d => d["id"]!.GetValue<string>()))
        {
            await foreach (var item in client.ListAsync("tickets", 100, [new("departmentId", department)], label: "detail-strategy", cancellationToken: CancellationToken.None))
            {
                ids.Add(item.GetProperty("id").GetString()!);
            }
        }

        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 10 }, async (id, ct) =>
        {
            using var _ = await client.GetAsync($"tickets/{id}", label: "detail-strategy", cancellationToken: ct);
        });
        var detail = client.Log.ByLabel["detail-strategy"];
        var per = 1000.0 / tickets;
        Report($"API economy per 1,000 complete tickets ({tickets:N0} loaded)",
            $"DeskSync (search cursor): {ours.Calls * per:N1} calls, {ours.Credits * per:N1} credits; one detail call per ticket: {(detail.Calls - before.Calls) * per:N1} calls, {(detail.Credits - before.Credits) * per:N1} credits",
            $"economy --tickets {tickets}");
    }
}

async Task Ingest(int seconds, int concurrency)
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
    var done = 0L;
    var stopAt = DateTime.UtcNow.AddSeconds(seconds);
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (DateTime.UtcNow < stopAt)
        {
            using var r = await http.PostAsync(url, Body());
            if (r.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref done);
            }
        }
    }));
    Report($"webhook ingest, sustained, {concurrency} concurrent senders, fsync before 200", $"{done / watch.Elapsed.TotalSeconds:N0} events/s acknowledged ({journal.Appended:N0} appends in {journal.Flushes:N0} flushes)",
        $"ingest --seconds {seconds} --concurrency {concurrency}");

    await IngestWithWrk(url, journal, seconds, Org);

    foreach (var rate in new[] { 1_000, 5_000 })
    {
        var latencies = new ConcurrentBag<double>();
        var sends = new List<Task>();
        var interval = TimeSpan.FromSeconds(1.0 / rate);
        var start = Stopwatch.GetTimestamp();
        var total = rate * Math.Min(seconds, 5);
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
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
                using var r = await http.PostAsync(url, Body());
                latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }));
        }

        await Task.WhenAll(sends);
        var sorted = latencies.Order().ToArray();
        Report($"webhook ack latency at {rate:N0} events/s offered (one event per delivery)", $"p50 {sorted[sorted.Length / 2]:N1} ms, p99 {sorted[(int)(sorted.Length * 0.99)]:N1} ms over {sorted.Length:N0} deliveries", $"ingest --seconds {seconds}");
    }

    await EndToEndLag(seconds);
}

// The same sustained figure with the load coming from wrk (a C load generator, Debian's wrk
// package) instead of .NET's HttpClient in this process, which takes a core of its own: closer
// to what the receiver takes when Zoho is the sender. Events counted are the journal's appends.
async Task IngestWithWrk(Uri url, DeskSync.Core.Journal.DurableJournal journal, int seconds, string org)
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

async Task EndToEndLag(int seconds)
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
async Task<(Process Process, JsonNode Details)> EmulatorProcess(params string[] args)
{
    var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in new[] { CliPath(), "emulator", "--port", "0", "--json" }.Concat(args))
    {
        info.ArgumentList.Add(a);
    }

    var emulator = Process.Start(info)!;
    return (emulator, JsonNode.Parse((await emulator.StandardOutput.ReadLineAsync())!)!);
}

async Task<(Process Process, DeskClient Client)> ExternalEmulator(int tickets, int latencyMs, int cap, bool gzip = false)
{
    var (emulator, details) = await EmulatorProcess(["--tickets", tickets.ToString(CultureInfo.InvariantCulture), "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture), .. gzip ? new[] { "--gzip" } : []]);
    var client = await Connect(new Uri(details["url"]!.GetValue<string>()), details["clientId"]!.GetValue<string>(), details["clientSecret"]!.GetValue<string>(),
        details["grantCode"]!.GetValue<string>(), details["orgId"]!.GetValue<string>(), cap);
    return (emulator, client);
}

// Every table of the portal, as `desksync sync` loads them: field definitions, then the tables together.
async Task FullLoadPortal(int tickets, int latencyMs, int cap)
{
    var (emulator, client) = await ExternalEmulator(tickets, latencyMs, cap);
    try
    {
        async Task<(IReadOnlyList<TableLoadResult> Results, TimeSpan Elapsed)> Load(string name)
        {
            var watch = Stopwatch.StartNew();
            await using var sink = new SqliteSink(Path.Combine(work, name), SinkMode.Flat);
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.All, null, CancellationToken.None);
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
async Task FullLoadExternal(int tickets, int latencyMs, int cap, string mode, bool raw, bool gzip)
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
async Task Memory(int tickets)
{
    var cli = CliPath();
    var (emulator, details) = await EmulatorProcess("--compact", "--tickets", tickets.ToString(CultureInfo.InvariantCulture));
    try
    {
        string D(string key) => details[key]!.GetValue<string>();
        var config = Path.Combine(work, "mem", "desksync.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        await RunAsync("dotnet", [cli, "auth", "--config", config, "--accounts-url", D("url"), "--api-url", D("url"), "--org-id", D("orgId"), "--client-id", D("clientId"), "--grant-code", D("grantCode")],
            new() { ["DESKSYNC_CLIENT_SECRET"] = D("clientSecret") });
        var watch = Stopwatch.StartNew();
        var output = await RunAsync("/usr/bin/time", ["-v", "dotnet", cli, "sync", "--config", config, "--tables", "tickets", "--target", "sqlite:" + Path.Combine(work, "mem", "mem.db")], []);
        var kb = output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("Maximum resident set size", StringComparison.Ordinal)).Split(':')[1].Trim();
        emulator.Refresh();
        Report($"memory, {tickets:N0}-ticket full load by `desksync sync` into SQLite flat, emulator in another process",
            $"peak RSS {long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0:N0} MB ({watch.Elapsed.TotalSeconds:N0} s; the emulator's peak {emulator.PeakWorkingSet64 / 1048576.0:N0} MB)",
            $"memory --tickets {tickets}");
    }
    finally
    {
        emulator.Kill(entireProcessTree: true);
        emulator.Dispose();
    }
}

static string CliPath()
{
    var cli = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "DeskSync.Cli", "bin", "Release", "net10.0", "desksync.dll"));
    return File.Exists(cli) ? cli : throw new InvalidOperationException($"Build the CLI first: dotnet build -c Release src/DeskSync.Cli ({cli} is missing).");
}

static async Task<string> RunAsync(string file, string[] args, Dictionary<string, string> env)
{
    var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in args)
    {
        info.ArgumentList.Add(a);
    }

    foreach (var (k, v) in env)
    {
        info.Environment[k] = v;
    }

    using var process = Process.Start(info)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    var text = await stdout + await stderr;
    return process.ExitCode == 0 ? text : throw new InvalidOperationException($"{file} {string.Join(' ', args.Take(3))} … failed ({process.ExitCode}): {text[^Math.Min(text.Length, 2000)..]}");
}

// The whole process's CPU time (every thread, user and kernel): steadier on a shared machine than wall time.
static (TimeSpan Cpu, long Allocated, int Gen0, int Gen2, TimeSpan Paused) CpuTime() =>
    (Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration());

static string CpuMicros((TimeSpan Cpu, long Allocated, int Gen0, int Gen2, TimeSpan Paused) before, long rows, string unit = "a ticket")
{
    var now = CpuTime();
    return string.Create(CultureInfo.InvariantCulture,
        $"{(now.Cpu - before.Cpu).TotalMicroseconds / Math.Max(1, rows):N1} µs of CPU and {(now.Allocated - before.Allocated) / 1024.0 / Math.Max(1, rows):N1} KB allocated {unit}, {now.Gen0 - before.Gen0} GCs ({now.Gen2 - before.Gen2} full) pausing {(now.Paused - before.Paused).TotalMilliseconds:N0} ms");
}

static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

static void Report(string what, string figure, string args)
{
    Console.WriteLine($"{what}: {figure}");
    Console.WriteLine($"    dotnet run -c Release --project bench/DeskSync.Bench -- {args}");
}
