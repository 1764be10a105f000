using System.Globalization;
using System.Text;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// What /healthz answers: "ok"; "degraded" (HTTP 200: the receiver journals, something is being
/// retried — the target, Zoho, the load or the catch-up); "failing" (HTTP 503: the applier has
/// ended, or events wait and none was applied for the stall time). Each reason says which.
/// </summary>
public sealed record HealthReport(string Status, bool Streaming, string? Target, IReadOnlyList<string> Reasons)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int HttpStatus => Status == "failing" ? 503 : 200;
}

/// <summary>/healthz and /metrics from the state of a <see cref="RealtimeSync"/>.</summary>
internal sealed class RealtimeStatus(RealtimeSync sync)
{
    public HealthReport Health()
    {
        var failing = new List<string>();
        var degraded = new List<string>();
        var applier = sync.Applier;
        var now = sync.Options.Time.GetUtcNow();
        if (sync.ApplierStopped)
        {
            failing.Add("the applier has stopped" + (sync.ApplierEnded is { } why ? ": " + why : ""));
        }

        var backlog = Backlog();
        if (applier is not null && backlog > 0 && now - (applier.LastProgress ?? now) > sync.Options.StallAfter)
        {
            failing.Add(string.Create(CultureInfo.InvariantCulture, $"nothing applied for {(now - applier.LastProgress!.Value).TotalMinutes:0} minutes while {backlog} journaled bytes wait"));
        }

        if (applier?.Error is { } error)
        {
            degraded.Add(error);
        }

        if (sync.LoadError is { } load)
        {
            degraded.Add(load);
        }

        if (sync.PollError is { } poll)
        {
            degraded.Add(poll);
        }

        var status = failing.Count > 0 ? "failing" : degraded.Count > 0 ? "degraded" : "ok";
        return new HealthReport(status, sync.Streaming, applier?.TargetError, [.. failing, .. degraded]);
    }

    /// <summary>Journaled bytes not yet applied (all of the journal before the applier starts).</summary>
    public long Backlog() =>
        sync.Journal is not { } journal ? 0 : journal.BytesAfter(From(journal));

    /// <summary>The applier's position; before it runs, the target's checkpoint as read at start (else the journal's start).</summary>
    private Core.Journal.JournalPosition From(Core.Journal.DurableJournal journal) =>
        sync.Applier?.Position ?? sync.AppliedAtStart ?? new Core.Journal.JournalPosition(journal.FirstSegment, 0);

    /// <summary>Seconds since the oldest event not yet applied happened; 0 when nothing waits.</summary>
    public double ApplyLagSeconds()
    {
        if (sync.Journal is not { } journal || Backlog() == 0)
        {
            return 0;
        }

        try
        {
            foreach (var record in journal.Read(From(journal)))
            {
                var oldest = WebhookBody.Parse(record.Payload, journaled: true).Events.Select(e => e.EventTime).Min();
                if (oldest is { } t)
                {
                    return Math.Max(0, (sync.Options.Time.GetUtcNow() - t).TotalSeconds);
                }
            }
        }
        catch (Core.Journal.JournalDamagedException)
        {
            // The applier reports it.
        }

        return 0;
    }

    /// <summary>Prometheus text exposition of the service's counters.</summary>
    public string Metrics()
    {
        var sb = new StringBuilder();
        void Metric(string name, string type, string help, params (string Labels, double Value)[] samples)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in samples)
            {
                sb.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        var r = sync.Server?.Receiver;
        var a = sync.Applier;
        var health = Health();
        Metric("desksync_webhook_deliveries_total", "counter", "Webhook deliveries by outcome.",
            ("result=\"accepted\"", r?.Accepted ?? 0), ("result=\"refused\"", r?.Refused ?? 0));
        Metric("desksync_webhook_refused_total", "counter", "Refused deliveries by the HTTP status they got (503: the journal could not take them; Zoho retries).",
            [.. (r?.RefusedByStatus ?? new Dictionary<int, long>()).OrderBy(kv => kv.Key).Select(kv => ($"status=\"{kv.Key}\"", (double)kv.Value))]);
        Metric("desksync_webhook_events_received_total", "counter", "Events in accepted deliveries.", ("", r?.EventsAccepted ?? 0));
        Metric("desksync_webhook_duplicates_total", "counter", "Events received again (Zoho redelivered them) and not journaled twice.", ("", r?.Duplicates ?? 0));
        Metric("desksync_events_applied_total", "counter", "Events applied to the target.", ("", a?.EventsApplied ?? 0));
        Metric("desksync_events_ignored_total", "counter", "Events of tables not replicated.", ("", a?.EventsIgnored ?? 0));
        Metric("desksync_events_quarantined_total", "counter", "Events that could not be applied at all: kept in the quarantine with the reason, and skipped.", ("", a?.EventsQuarantined ?? 0));
        Metric("desksync_rereads_total", "counter", "Records re-read because an event was too thin.", ("", a?.Rereads ?? 0));
        Metric("desksync_journal_backlog_bytes", "gauge", "Journaled bytes not yet applied.", ("", Backlog()));
        Metric("desksync_journal_pending_bytes", "gauge", "Bytes waiting to be flushed to the journal.", ("", sync.Journal?.PendingBytes ?? 0));
        Metric("desksync_apply_lag_seconds", "gauge", "Age of the oldest event not yet applied (0 when none waits).", ("", ApplyLagSeconds()));
        Metric("desksync_polls_total", "counter", "Poll cycles.", ("", sync.PollCycles));
        Metric("desksync_applier_failures_total", "counter", "Failed tries of the applier, whatever refused (each is retried).", ("", a?.Failures ?? 0));
        Metric("desksync_target_write_failures_total", "counter", "Writes the target refused (each is retried).", ("", a?.TargetFailures ?? 0));
        Metric("desksync_target_up", "gauge", "0 while the target refuses writes (events wait in the journal).", ("", a?.TargetError is null ? 1 : 0));
        Metric("desksync_streaming", "gauge", "1 once the full load finished and events are applied.", ("", sync.Streaming ? 1 : 0));
        Metric("desksync_healthy", "gauge", "1 ok, 0 degraded, -1 failing (as /healthz).", ("", health.Status switch { "ok" => 1, "degraded" => 0, _ => -1 }));
        var byLabel = sync.Client.Log.ByLabel;
        Metric("desksync_api_calls_total", "counter", "Desk API calls (retries included) by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Calls))]);
        Metric("desksync_api_credits_total", "counter", "Desk API credits spent by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Credits))]);
        Metric("desksync_api_errors_total", "counter", "Desk API calls that failed, by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Failures))]);
        Metric("desksync_api_credits_remaining", "gauge", "Credits Zoho says remain today.", ("", sync.Client.Log.RemainingCredits ?? -1));
        return sb.ToString();
    }
}
