using System.CommandLine;
using DeskSync.Cli.Config;
using DeskSync.Cli.Service;
using DeskSync.ZohoDesk.Snapshot;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync run`: the data source's real-time mode — receiver, full load, then webhook events as they come.</summary>
internal static class RunCommand
{
    public static Command Build(GlobalOptions global)
    {
        var listen = new Option<string?>("--listen") { Description = "Where to listen for Zoho's webhooks (default http://127.0.0.1:8080; e.g. http://0.0.0.0:80, or https://0.0.0.0:443 with --cert)." };
        var adminListen = new Option<string?>("--admin-listen") { Description = "Where /healthz and /metrics answer (default: loopback, the --listen port + 1, e.g. http://127.0.0.1:8081; port 0 with --listen's port 0). The public port serves the service URL only." };
        var publicUrl = new Option<string?>("--public-url") { Description = "The public base URL Zoho reaches this server at (https://sync.example.com)." };
        var cert = new Option<string?>("--cert") { Description = "PKCS#12 certificate for https listening (password in DESKSYNC_CERT_PASSWORD)." };
        var targets = new TargetOptions();
        var deletes = new Option<string?>("--deletes") { Description = "hard (remove deleted rows, default) or soft (keep them with _deleted_at)." };
        var once = new Option<bool>("--once") { Description = "Apply what the journal holds, then exit (no listening after that)." };
        var incremental = new Option<string?>("--incremental") { Description = "webhook (default), polling (editions without webhooks), or webhook+polling (webhooks for latency, a slower poll as the safety net)." };
        var pollInterval = new Option<string?>("--poll-interval") { Description = "How often to poll, e.g. 5m (default 5m for polling, 30m for webhook+polling)." };
        var reconcileInterval = new Option<string?>("--reconcile-interval") { Description = "How often to find rows deleted in Zoho by an id listing, e.g. 24h (default), or off." };
        var verifyJwt = new Option<bool>("--verify-jwt") { Description = "Refuse deliveries without a valid X-ZDesk-JWT (RS256, keys from the Desk host's /.well-known/jwks.json)." };
        var reconcileAfterDowntime = new Option<string?>("--reconcile-after-downtime") { Description = "After DeskSync was not listening for longer than this, the start also reconciles deletes (a delete leaves no trace a poll can see), e.g. 15m (default), or off." };
        var targetRetry = new Option<string?>("--target-retry") { Description = "How long to keep retrying a target that refuses writes (a database restarting, a full disk) while webhooks are still journaled, e.g. 1h; default: for ever." };
        var journal = new Option<string?>("--journal") { Description = "local (the default: files beside the settings) or the NATS servers of a JetStream cluster, nats://HOST:PORT comma-separated: every process given the same servers receives any data source's webhooks, and one of them applies each. Or \"journal\" in the settings, or DESKSYNC_JOURNAL." };
        var replicas = new Option<int?>("--journal-replicas") { Description = "JetStream: servers holding each record before Zoho gets its 200 is a quorum of these (default 3)." };
        var allSources = new Option<bool>("--all-sources") { Description = "Serve every data source of the settings as a service, even when it has one: a source added later starts on SIGHUP, and one that fails is tried again rather than ending the run. (With several sources this is what run does.)" };
        var leaseTtl = new Option<string?>("--lease-ttl") { Description = "JetStream: how soon another process takes over a data source whose applier died (default 10s)." };
        var command = new Command("run", "Replicate in real time: receive Zoho Desk webhooks at the service URL, run the full load, then apply every event in order. With several data sources in the settings, serves them all on one listener (or those named by --source a,b). Ctrl+C stops; run again to continue; SIGHUP re-reads the settings and starts or stops the sources added or removed.")
        {
            listen, adminListen, publicUrl, cert, deletes, once, verifyJwt, incremental, pollInterval, reconcileInterval, reconcileAfterDowntime, targetRetry, journal, replicas, leaseTtl, allSources,
        };
        targets.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            var config = DeskSyncConfig.Load(configPath);
            var run = new RunSettings
            {
                Parse = parse,
                Targets = targets,
                Listen = parse.GetValue(listen),
                AdminListen = parse.GetValue(adminListen),
                PublicUrl = parse.GetValue(publicUrl),
                Certificate = parse.GetValue(cert),
                Deletes = parse.GetValue(deletes),
                Once = parse.GetValue(once),
                Incremental = parse.GetValue(incremental),
                PollInterval = parse.GetValue(pollInterval),
                ReconcileInterval = parse.GetValue(reconcileInterval),
                VerifyJwt = parse.GetValue(verifyJwt),
                ReconcileAfterDowntime = parse.GetValue(reconcileAfterDowntime),
                TargetRetry = parse.GetValue(targetRetry),
                Journal = parse.GetValue(journal) ?? DeskSyncConfig.Env("DESKSYNC_JOURNAL") ?? config.Journal,
                JournalReplicas = parse.GetValue(replicas) ?? config.JournalReplicas ?? 3,
                LeaseTtl = Durations.Parse(parse.GetValue(leaseTtl) ?? "10s", "--lease-ttl"),
            };
            var names = ServiceRun.Chosen(parse.GetValue(global.Source), parse.GetValue(allSources), config, configPath);
            await using var shared = await SharedJournal.OpenAsync(run.Journal, run.JournalReplicas, run.LeaseTtl, ct);
            if (names is null)
            {
                return await RunOneAsync(run, configPath, parse.GetValue(global.Source), shared, ct);
            }

            if (parse.GetValue(targets.Target) is not null)
            {
                throw new ConfigException("--target names one target, but this run serves several data sources: give each its own \"target\" in the settings, or name one with --source.");
            }

            return await new ServiceRun(run, configPath, shared).RunAsync(names, parse.GetValue(global.Source) is not null, ct);
        }));
        return command;
    }

    /// <summary>One data source, as `run` has always served it: its own listener, and its failure is the command's.</summary>
    private static async Task<int> RunOneAsync(RunSettings run, string configPath, string? name, SharedJournal? shared, CancellationToken ct)
    {
        using var loggers = OperatorLoggerProvider.Factory();
        await using var source = await SourceRun.StartAsync(run, configPath, name, null, shared, loggers, OutputLog.Report, ct);
        var sync = source.Sync;
        source.Announce(run, shared?.Servers);
        if (sync.Server is { } servers)
        {
            OutputLog.Info("admin", $"Health and metrics on {servers.AdminAddress}healthz and {servers.AdminAddress}metrics");
        }

        var line = new StatusLine(sync, source.Webhooks, TimeProvider.System);
        using var status = new Timer(_ => OutputLog.Info("status", line.Next()), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        var results = await source.RunAsync(run, ct);
        OutputLog.Info("status", line.Next());
        if (ct.IsCancellationRequested)
        {
            OutputLog.Info("stopped", CommandRunner.Stopped);
            return ExitCodes.Interrupted;
        }

        return results.Any(r => r.Status == TableLoadStatus.Failed) ? ExitCodes.Unexpected : ExitCodes.Success;
    }
}
