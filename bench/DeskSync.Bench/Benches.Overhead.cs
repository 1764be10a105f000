namespace DeskSync.Bench;

/// <summary>DeskSync's own cost a ticket, by target and mode, with the API's wait taken out.</summary>
internal sealed partial class Benches
{
    internal async Task Overhead(int tickets, string? pg, string? only, string? onlyMode, int repeat, int pageSize, int commitRows, int walRestartMb, int cap)
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

    private static long LoopbackBytes()
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

    private static void Discard(ISink sink, string? pg = null)
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

    private static SinkMode[] Modes(string target) => target.EndsWith("without _raw", StringComparison.Ordinal) ? [SinkMode.Flat] : [SinkMode.Flat, SinkMode.Document];
}
