using DeskSync.Bench;

// Benchmarks print figures with the command that reproduces each; they are not tests.
var command = args.FirstOrDefault() ?? "help";
var opts = Args.Parse(args.Skip(1));
var work = Directory.CreateTempSubdirectory("desksync-bench-").FullName;
var calls = new CallTimer();
var benches = new Benches(work, calls);
try
{
    switch (command)
    {
        case "fullload":
            if (opts.Text("all-tables") is not null)
            {
                await benches.FullLoadPortal(opts.Int("tickets", 20_000), opts.Int("latency-ms", 150), opts.Int("cap", 25));
            }
            else if (opts.Text("external") is not null)
            {
                await benches.FullLoadExternal(opts.Int("tickets", 20_000), opts.Int("latency-ms", 150), opts.Int("cap", 10), opts.Text("mode") ?? "flat", raw: opts.Text("no-raw") is null, gzip: opts.Text("gzip") is not null);
            }
            else
            {
                await benches.FullLoadThroughput(opts.Int("tickets", 20_000), opts.Int("latency-ms", 150), opts.Int("cap", 10));
            }

            break;
        case "overhead":
            await benches.Overhead(opts.Int("tickets", 100_000), opts.Text("pg"), opts.Text("only"), opts.Text("mode"), opts.Int("repeat", 1), opts.Int("page-size", 16384), opts.Int("commit-rows", 500), opts.Int("wal-restart-mb", 0), opts.Int("cap", 25));
            break;
        case "economy":
            await benches.Economy(opts.Int("tickets", 1_000));
            break;
        case "children":
            await benches.Children(opts.Int("tickets", 2_000), opts.Int("changed", 500));
            break;
        case "ingest":
            await benches.Ingest(opts.Int("seconds", 10), opts.Int("concurrency", 64));
            break;
        case "cluster":
            await benches.Cluster(opts.Int("seconds", 10), opts.Int("concurrency", 64));
            break;
        case "memory":
            await benches.Memory(opts.Int("tickets", 1_000_000));
            break;
        case "smoke":
            await benches.FullLoadThroughput(2_000, 5, 10);
            await benches.Economy(300);
            break;
        default:
            Console.WriteLine("dotnet run -c Release --project bench/DeskSync.Bench -- fullload|overhead|economy|children|ingest|cluster|memory|smoke [--option value …]");
            break;
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}
