using DeskSync.Cli.Commands;
using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.Sinks.Sql;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Extensions.Logging;

namespace DeskSync.Cli.Service;

/// <summary>One data source served by `run`: its connection, target and realtime sync, on its own server or a shared one.</summary>
internal sealed class SourceRun : IAsyncDisposable
{
    private readonly SourceContext _context;
    private readonly ISink _sink;
    private readonly HttpClient _jwksHttp;

    private SourceRun(SourceContext context, ISink sink, HttpClient jwksHttp, RealtimeSync sync, string token, bool webhooks)
    {
        _context = context;
        _sink = sink;
        _jwksHttp = jwksHttp;
        Sync = sync;
        Token = token;
        Webhooks = webhooks;
    }

    public string Name => _context.Name;

    public RealtimeSync Sync { get; }

    public string Token { get; }

    public bool Webhooks { get; }

    public DataSourceConfig Source => _context.Source;

    /// <summary>Opens the source and starts its receiver (on <paramref name="shared"/> when given).</summary>
    public static async Task<SourceRun> StartAsync(RunSettings run, string configPath, string? name, WebhookServer? shared, SharedJournal? journal, ILoggerFactory loggers, Action<string> report, CancellationToken ct)
    {
        // With a shared journal the lease decides who writes; the file lock would keep a second process on this machine out.
        var context = await SourceContext.OpenAsync(configPath, name, ct, writer: journal is null ? "run" : null);
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        ISink? sink = null;
        try
        {
            var source = context.Source;
            var (token, notice) = ServiceTokens.Ensure(configPath, context.Name);
            if (notice is not null)
            {
                OutputLog.Info("service_url", notice);
            }

            var deleteMode = run.DeleteModeOf(source);
            var tables = run.Targets.TablesOf(run.Parse, source);
            var target = run.Targets.OpenSink(run.Parse, source, configPath);
            if (target is SqlSink sql)
            {
                sql.DeleteMode = deleteMode;
            }

            sink = AttachmentFolders.Wrap(target, source, configPath, context.Connection.Client, tables, removeDeleted: deleteMode == DeleteMode.Hard);
            var webhooks = run.IncrementalOf(source) != "polling";
            var publicListen = ListenUrl.Check(run.Listen ?? source.WebhookListen ?? "http://127.0.0.1:8080");
            var sync = new RealtimeSync(context.Connection.Client, sink, new RealtimeSyncOptions
            {
                Name = context.Name,
                ReconcileAfterDowntime = run.AfterDowntime,
                Tables = tables,
                Snapshot = source.Snapshot(),
                SharedServer = shared,
                Server = new WebhookServerOptions
                {
                    Listen = publicListen,
                    AdminListen = run.AdminListen is { } adminUrl ? ListenUrl.Check(adminUrl) : ListenUrl.AdminBeside(publicListen),
                    CertificatePath = run.Certificate,
                    CertificatePassword = DeskSyncConfig.Env("DESKSYNC_CERT_PASSWORD"),
                },
                JournalDirectory = JournalCommand.JournalFolder(configPath, context.Name),
                OpenJournal = journal is null ? null : c => journal.OpenJournalAsync(context.Name, c),
                Lease = journal is null ? null : await journal.OpenLeaseAsync(context.Name, ct),
                Token = token,
                OrgId = source.OrgId!,
                UseWebhooks = webhooks,
                PollInterval = run.PollOf(source),
                ReconcileInterval = run.ReconcileOf(source),
                TargetRetryLimit = run.RetryLimit,
                Jwt = run.VerifyJwt || source.VerifyJwt == true
                    ? new WebhookJwtVerifier(http, new Uri(source.Endpoints().DeskUrl, ".well-known/jwks.json"), source.OrgId!, source.WebhookIds)
                    : null,
            }, loggers);
            sync.Report += report;
            var started = new SourceRun(context, sink, http, sync, token, webhooks);
            await sync.StartReceiverAsync(ct);
            return started;
        }
        catch
        {
            if (sink is not null)
            {
                await sink.DisposeAsync();
            }

            http.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>The lines `run` prints once the receiver listens.</summary>
    public void Announce(RunSettings run, string? journalServers, string prefix = "")
    {
        var server = Sync.Server;
        if (server is not null && Webhooks)
        {
            var serviceUrl = ServiceUrlToken.Url(run.PublicUrl ?? Source.PublicUrl ?? server.Address.ToString(), Token);
            OutputLog.Info("receiving", $"{prefix}Receiving webhooks on {server.Address} (service URL {ServiceTokens.Redact(serviceUrl)}; `desksync webhook url` prints it in full).");
            OutputLog.Info("journal", $"{prefix}Journal: {(journalServers is null ? JournalCommand.JournalFolder(_context.ConfigPath, Name) : $"JetStream on {journalServers} ({Sync.Journal?.Location})")}");
        }

        if (run.PollOf(Source) is { } p)
        {
            var reconcile = run.ReconcileOf(Source);
            OutputLog.Info("polling", $"{prefix}Polling every {p}{(reconcile is { } r ? $", reconciling deletes every {r}" : "")}.");
        }
    }

    public Task<IReadOnlyList<TableLoadResult>> RunAsync(RunSettings run, CancellationToken ct) =>
        Sync.RunAsync(new SyncCommand.LineProgress(), ct, follow: !run.Once);

    public async ValueTask DisposeAsync()
    {
        await Sync.DisposeAsync();
        await _sink.DisposeAsync();
        _jwksHttp.Dispose();
        _context.Dispose();
    }
}
