using System.CommandLine;
using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;

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
        var command = new Command("run", "Replicate in real time: receive Zoho Desk webhooks at the service URL, run the full load, then apply every event in order. Ctrl+C stops; run again to continue.")
        {
            listen, adminListen, publicUrl, cert, deletes, once, verifyJwt, incremental, pollInterval, reconcileInterval, reconcileAfterDowntime, targetRetry,
        };
        targets.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            using var context = await SourceContext.OpenAsync(configPath, parse.GetValue(global.Source), ct, writer: "run");
            var source = context.Source;
            var (token, notice) = ServiceTokens.Ensure(configPath, context.Name);
            if (notice is not null)
            {
                OutputLog.Info("service_url", notice);
            }

            var deleteMode = (parse.GetValue(deletes) ?? source.DeleteMode ?? "hard").ToLowerInvariant() switch
            {
                "hard" => DeleteMode.Hard,
                "soft" => DeleteMode.Soft,
                var other => throw new ConfigException($"Unknown delete mode '{other}': use hard or soft."),
            };
            var tables = targets.TablesOf(parse, source);
            var target = targets.OpenSink(parse, source, configPath);
            if (target is SqlSink sql)
            {
                sql.DeleteMode = deleteMode;
            }

            await using var sink = AttachmentFolders.Wrap(target, source, configPath, context.Connection.Client, tables, removeDeleted: deleteMode == DeleteMode.Hard);

            var incrementalMode = (parse.GetValue(incremental) ?? source.Incremental ?? "webhook").ToLowerInvariant();
            if (incrementalMode is not ("webhook" or "polling" or "webhook+polling"))
            {
                throw new ConfigException($"Unknown incremental mode '{incrementalMode}': use webhook, polling or webhook+polling.");
            }

            var useWebhooks = incrementalMode != "polling";
            TimeSpan? poll = incrementalMode == "webhook" ? null
                : Durations.Parse(parse.GetValue(pollInterval) ?? source.PollInterval ?? (useWebhooks ? "30m" : "5m"), "--poll-interval");
            var reconcileText = parse.GetValue(reconcileInterval) ?? source.ReconcileInterval ?? "24h";
            TimeSpan? reconcile = reconcileText == "off" ? null : Durations.Parse(reconcileText, "--reconcile-interval");
            var downtimeText = parse.GetValue(reconcileAfterDowntime) ?? "15m";
            var afterDowntime = downtimeText == "off" ? Timeout.InfiniteTimeSpan : Durations.Parse(downtimeText, "--reconcile-after-downtime");
            var retryText = parse.GetValue(targetRetry) ?? "forever";
            TimeSpan? retryLimit = retryText == "forever" ? null : Durations.Parse(retryText, "--target-retry");
            using var jwksHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var journal = JournalCommand.JournalFolder(configPath, context.Name);
            var publicListen = ListenUrl.Check(parse.GetValue(listen) ?? source.WebhookListen ?? "http://127.0.0.1:8080");
            using var loggers = OperatorLoggerProvider.Factory();
            await using var sync = new RealtimeSync(context.Connection.Client, sink, new RealtimeSyncOptions
            {
                ReconcileAfterDowntime = afterDowntime,
                Tables = tables,
                Snapshot = source.Snapshot(),
                Server = new WebhookServerOptions
                {
                    Listen = publicListen,
                    AdminListen = parse.GetValue(adminListen) is { } adminUrl ? ListenUrl.Check(adminUrl) : ListenUrl.AdminBeside(publicListen),
                    CertificatePath = parse.GetValue(cert),
                    CertificatePassword = DeskSyncConfig.Env("DESKSYNC_CERT_PASSWORD"),
                },
                JournalDirectory = journal,
                Token = token,
                OrgId = source.OrgId!,
                UseWebhooks = useWebhooks,
                PollInterval = poll,
                ReconcileInterval = reconcile,
                TargetRetryLimit = retryLimit,
                Jwt = parse.GetValue(verifyJwt) || source.VerifyJwt == true
                    ? new WebhookJwtVerifier(jwksHttp, new Uri(source.Endpoints().DeskUrl, ".well-known/jwks.json"), source.OrgId!, source.WebhookIds)
                    : null,
            }, loggers);
            sync.Report += OutputLog.Report;
            await sync.StartReceiverAsync(ct);
            if (sync.Server is { } server && useWebhooks)
            {
                var serviceUrl = ServiceUrlToken.Url(parse.GetValue(publicUrl) ?? source.PublicUrl ?? server.Address.ToString(), token);
                OutputLog.Info("receiving", $"Receiving webhooks on {server.Address} (service URL {ServiceTokens.Redact(serviceUrl)}; `desksync webhook url` prints it in full).");
                OutputLog.Info("journal", $"Journal: {journal}");
            }

            if (sync.Server is { } servers)
            {
                OutputLog.Info("admin", $"Health and metrics on {servers.AdminAddress}healthz and {servers.AdminAddress}metrics");
            }

            if (poll is { } p)
            {
                OutputLog.Info("polling", $"Polling every {p}{(reconcile is { } r ? $", reconciling deletes every {r}" : "")}.");
            }

            var line = new StatusLine(sync, useWebhooks, TimeProvider.System);
            using var status = new Timer(_ => OutputLog.Info("status", line.Next()), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
            var results = await sync.RunAsync(new SyncCommand.LineProgress(), ct, follow: !parse.GetValue(once));
            OutputLog.Info("status", line.Next());
            if (ct.IsCancellationRequested)
            {
                OutputLog.Info("stopped", CommandRunner.Stopped);
                return ExitCodes.Interrupted;
            }

            return results.Any(r => r.Status == TableLoadStatus.Failed) ? ExitCodes.Unexpected : ExitCodes.Success;
        }));
        return command;
    }
}
