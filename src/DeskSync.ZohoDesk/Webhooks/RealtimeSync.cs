using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Catalog;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using Microsoft.Extensions.Logging;

namespace DeskSync.ZohoDesk.Webhooks;

public sealed record RealtimeSyncOptions
{
    public required IReadOnlyList<DeskTable> Tables { get; init; }

    public SnapshotOptions Snapshot { get; init; } = new();

    public WebhookServerOptions Server { get; init; } = new();

    public required string JournalDirectory { get; init; }

    public required string Token { get; init; }

    public required string OrgId { get; init; }

    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Refuse deliveries without a valid X-ZDesk-JWT.</summary>
    public WebhookJwtVerifier? Jwt { get; init; }

    /// <summary>Receive webhooks (modes webhook and webhook+polling).</summary>
    public bool UseWebhooks { get; init; } = true;

    /// <summary>Poll this often (modes polling and webhook+polling); null: no polling.</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary>Reconcile deletes this often; null: never.</summary>
    public TimeSpan? ReconcileInterval { get; init; }

    public ReconcileOptions Reconcile { get; init; } = new();

    /// <summary>How long the applier keeps retrying a target that refuses writes (null: for ever).</summary>
    public TimeSpan? TargetRetryLimit { get; init; }

    /// <summary>The longest wait between two tries of a refusing target.</summary>
    public TimeSpan TargetRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a received event is remembered, so that Zoho sending it again changes nothing.</summary>
    public TimeSpan DuplicateWindow { get; init; } = ReceivedEvents.DefaultWindow;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The data source's incremental mode (snapshot + stream): the receiver starts first and journals
/// every delivery; then the full load runs (completed tables are skipped); then the journal is
/// applied from its committed position and followed. Changes made during the full load wait in
/// the journal and are applied after it, where the modifiedTime guard keeps whichever version of
/// a row is newest. A restart continues from the journal's committed position.
/// </summary>
public sealed class RealtimeSync(DeskClient client, ISink target, RealtimeSyncOptions options, ILoggerFactory? loggers = null) : IAsyncDisposable
{
    private readonly SerializedSink sink = new(target);

    /// <summary>Lines for the operator: poll and reconciliation summaries, drift, warnings.</summary>
    public event Action<string>? Report;

    public long PollCycles { get; private set; }
    public DurableJournal? Journal { get; private set; }

    public WebhookServer? Server { get; private set; }

    public JournalApplier? Applier { get; private set; }

    /// <summary>Set once the full load finished and the applier started.</summary>
    public bool Streaming { get; private set; }

    /// <summary>Starts the HTTP server: the receiver (when webhooks are on), /healthz and /metrics.</summary>
    public async Task StartReceiverAsync(CancellationToken cancellationToken)
    {
        Journal = DurableJournal.Open(options.JournalDirectory);
        if (Journal.CutTail is { } tail)
        {
            Report?.Invoke($"journal: cut a torn tail (an append a crash interrupted, never acknowledged); its bytes are kept in {tail}.");
        }

        await RefuseAnotherJournalAsync(Journal, cancellationToken);
        var received = new ReceivedEvents(options.DuplicateWindow, ReceivedEvents.DefaultCapacity, options.Time);
        received.Rebuild(Journal);
        Server = await WebhookServer.StartAsync(options.Server, Journal, new WebhookReceiverOptions
        {
            Token = options.Token,
            OrgId = options.OrgId,
            MaxBodyBytes = options.MaxBodyBytes,
            QuarantineDirectory = Path.Combine(options.JournalDirectory, "quarantine"),
            Jwt = options.Jwt,
            Received = received,
        }, loggers, cancellationToken, Metrics, receive: options.UseWebhooks, health: Health);
    }

    /// <summary>Stops before listening when the target's checkpoint was taken from another journal (the applier checks again when the target is away now).</summary>
    private async Task RefuseAnotherJournalAsync(DurableJournal journal, CancellationToken ct)
    {
        string? mismatch;
        try
        {
            await sink.InitializeAsync(ct);
            mismatch = (await JournalCheckpoint.ReadAsync(sink, ct))?.MismatchWith(journal);
        }
        catch (SinkException)
        {
            return;
        }

        if (mismatch is not null)
        {
            await journal.DisposeAsync();
            Journal = null;
            throw new JournalDamagedException($"The journal does not match the target: {mismatch}. Nothing was applied or skipped. Run `desksync journal rebaseline` (with `run` stopped): it reads from Zoho what changed since the last applied event and starts the target on a new journal.");
        }
    }

    /// <summary>Full load, then apply the journal until cancelled (or, with <paramref name="follow"/> false, to its end).</summary>
    public async Task<IReadOnlyList<TableLoadResult>> RunAsync(IFullLoadProgress? progress, CancellationToken cancellationToken, bool follow = true)
    {
        if (Journal is null)
        {
            await StartReceiverAsync(cancellationToken);
        }

        var load = new FullLoad(client, sink, options.Snapshot);
        var results = await load.RunAsync(options.Tables, progress, cancellationToken);
        var schemas = options.Tables.ToDictionary(t => t.Name, t => FullLoad.SchemaOf(t, load.Fields), StringComparer.Ordinal);
        Applier = new JournalApplier(Journal!, sink, client, schemas, loggers?.CreateLogger<JournalApplier>())
        {
            TargetRetryLimit = options.TargetRetryLimit,
            TargetRetryMaxDelay = options.TargetRetryMaxDelay,
            KeepApplied = options.DuplicateWindow,
            Time = options.Time,
        };
        Applier.Report += line => Report?.Invoke(line);
        Streaming = true;
        using var stopLoops = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = new List<Task> { Applier.RunAsync(follow && options.UseWebhooks, stopLoops.Token) };
        if (follow && options.PollInterval is { } poll)
        {
            loops.Add(EveryAsync(poll, PollOnceAsync, stopLoops.Token));
        }

        if (follow && options.ReconcileInterval is { } reconcile)
        {
            loops.Add(EveryAsync(reconcile, ReconcileOnceAsync, stopLoops.Token));
        }

        try
        {
            // The first loop to fail stops the run with its error: none may die unseen while the others go on.
            while (loops.Count > 0)
            {
                var done = await Task.WhenAny(loops);
                loops.Remove(done);
                if (done.IsFaulted)
                {
                    await stopLoops.CancelAsync();
                    await Task.WhenAll(loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                await done;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: everything applied so far is committed with its position.
        }

        return results;
    }

    /// <summary>Prometheus text exposition of the service's counters.</summary>
    public string Metrics()
    {
        var sb = new System.Text.StringBuilder();
        void Metric(string name, string type, string help, params (string Labels, double Value)[] samples)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in samples)
            {
                sb.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ').Append(value.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        var r = Server?.Receiver;
        Metric("desksync_webhook_deliveries_total", "counter", "Webhook deliveries by outcome.",
            ("result=\"accepted\"", r?.Accepted ?? 0), ("result=\"refused\"", r?.Refused ?? 0));
        Metric("desksync_webhook_events_received_total", "counter", "Events in accepted deliveries.", ("", r?.EventsAccepted ?? 0));
        Metric("desksync_webhook_duplicates_total", "counter", "Events received again (Zoho redelivered them) and not journaled twice.", ("", r?.Duplicates ?? 0));
        Metric("desksync_events_applied_total", "counter", "Events applied to the target.", ("", Applier?.EventsApplied ?? 0));
        Metric("desksync_events_ignored_total", "counter", "Events of tables not replicated.", ("", Applier?.EventsIgnored ?? 0));
        Metric("desksync_rereads_total", "counter", "Records re-read because an event was too thin.", ("", Applier?.Rereads ?? 0));
        var backlog = Journal is null || Applier is null ? 0 : Journal.BytesAfter(Applier.Position);
        Metric("desksync_journal_backlog_bytes", "gauge", "Journaled bytes not yet applied.", ("", backlog));
        Metric("desksync_journal_pending_bytes", "gauge", "Bytes waiting to be flushed to the journal.", ("", Journal?.PendingBytes ?? 0));
        Metric("desksync_apply_lag_seconds", "gauge", "Age of the last applied event when a backlog remains.",
            ("", backlog > 0 && Applier?.LastEventTime is { } t ? (DateTimeOffset.UtcNow - t).TotalSeconds : 0));
        Metric("desksync_polls_total", "counter", "Poll cycles.", ("", PollCycles));
        Metric("desksync_target_write_failures_total", "counter", "Writes the target refused (each is retried).", ("", Applier?.TargetFailures ?? 0));
        Metric("desksync_target_up", "gauge", "0 while the target refuses writes (events wait in the journal).", ("", Applier?.TargetError is null ? 1 : 0));
        Metric("desksync_streaming", "gauge", "1 once the full load finished and events are applied.", ("", Streaming ? 1 : 0));
        var byLabel = client.Log.ByLabel;
        Metric("desksync_api_calls_total", "counter", "Desk API calls (retries included) by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Calls))]);
        Metric("desksync_api_credits_total", "counter", "Desk API credits spent by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Credits))]);
        Metric("desksync_api_errors_total", "counter", "Desk API calls that failed, by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Failures))]);
        Metric("desksync_api_credits_remaining", "gauge", "Credits Zoho says remain today.", ("", client.Log.RemainingCredits ?? -1));
        return sb.ToString();
    }

    /// <summary>What /healthz answers: "ok", or "degraded" with the reason while the target refuses writes.</summary>
    public object Health() => Applier?.TargetError is { } error
        ? new { status = "degraded", streaming = Streaming, target = (string?)error }
        : new { status = "ok", streaming = Streaming, target = (string?)null };

    /// <summary>One poll of every table; reports rows, calls, credits and the daily cost at this interval.</summary>
    public async Task PollOnceAsync(CancellationToken ct)
    {
        var results = await new Poller(client, sink).PollOnceAsync(options.Tables, Report, ct);
        PollCycles++;
        var credits = results.Sum(r => r.Credits);
        var perDay = options.PollInterval is { } interval ? credits * (TimeSpan.FromDays(1) / interval) : 0;
        Report?.Invoke($"poll: {results.Sum(r => r.Rows):N0} rows, {results.Sum(r => r.Calls):N0} calls, {credits:N0} credits (≈ {perDay:N0} credits a day at this interval)");
    }

    public async Task ReconcileOnceAsync(CancellationToken ct)
    {
        var results = await new DeleteReconciler(client, sink, options.Reconcile).RunAsync(options.Tables, Report, ct);
        Report?.Invoke($"reconcile: {results.Sum(r => r.Deleted):N0} rows deleted, {results.Sum(r => r.Calls):N0} calls, {results.Sum(r => r.Credits):N0} credits");
    }

    private async Task EveryAsync(TimeSpan interval, Func<CancellationToken, Task> action, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                await action(ct);
            }
            catch (Exception ex) when (ex is ZohoApiException or SinkException { Retryable: true })
            {
                // A failed cycle changes nothing it did not commit; the next one tries again.
                Report?.Invoke("warning: " + ex.Message);
            }
        }
    }

    /// <summary>Waits until everything journaled so far is applied.</summary>
    public async Task WaitCaughtUpAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Applier is null || Applier.Position < Journal!.End || Journal.PendingBytes > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The applier is at {Applier?.Position}, the journal ends at {Journal?.End}.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Journal is not null)
        {
            await Journal.DisposeAsync();
        }

        await sink.DisposeAsync();
    }
}
