namespace DeskSync.Bench;

/// <summary>API economy, memory, and what every bench shares: processes, CPU time, medians and the report format.</summary>
internal sealed partial class Benches
{
    internal async Task Economy(int tickets)
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
                    ids.Add(item.GetProperty("id").ToString());
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

    internal async Task Memory(int tickets)
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

    private static string CliPath()
    {
        var cli = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "DeskSync.Cli", "bin", "Release", "net10.0", "desksync.dll"));
        return File.Exists(cli) ? cli : throw new InvalidOperationException($"Build the CLI first: dotnet build -c Release src/DeskSync.Cli ({cli} is missing).");
    }

    private static async Task<string> RunAsync(string file, string[] args, Dictionary<string, string> env)
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

    private static (TimeSpan Cpu, long Allocated, int Gen0, int Gen2, TimeSpan Paused) CpuTime() =>
        (Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    private static string CpuMicros((TimeSpan Cpu, long Allocated, int Gen0, int Gen2, TimeSpan Paused) before, long rows, string unit = "a ticket")
    {
        var now = CpuTime();
        return string.Create(CultureInfo.InvariantCulture,
            $"{(now.Cpu - before.Cpu).TotalMicroseconds / Math.Max(1, rows):N1} µs of CPU and {(now.Allocated - before.Allocated) / 1024.0 / Math.Max(1, rows):N1} KB allocated {unit}, {now.Gen0 - before.Gen0} GCs ({now.Gen2 - before.Gen2} full) pausing {(now.Paused - before.Paused).TotalMilliseconds:N0} ms");
    }

    private static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private static void Report(string what, string figure, string args)
    {
        Console.WriteLine($"{what}: {figure}");
        Console.WriteLine($"    dotnet run -c Release --project bench/DeskSync.Bench -- {args}");
    }
}
