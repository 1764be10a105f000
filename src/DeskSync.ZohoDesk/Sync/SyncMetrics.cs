using System.Globalization;
using System.Text;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>/metrics: the service's counters in Prometheus's text format.</summary>
internal sealed class SyncMetrics(RealtimeSync sync, SyncHealth status)
{
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

        var r = sync.Receiver;
        var a = sync.Applier;
        var health = status.Health();
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
        Metric("desksync_journal_backlog_bytes", "gauge", "Journaled bytes not yet applied.", ("", status.Backlog()));
        Metric("desksync_journal_pending_bytes", "gauge", "Bytes waiting to be flushed to the journal.", ("", sync.Journal?.PendingBytes ?? 0));
        Metric("desksync_apply_lag_seconds", "gauge", "Age of the oldest event not yet applied (0 when none waits).", ("", status.ApplyLagSeconds()));
        Metric("desksync_polls_total", "counter", "Poll cycles.", ("", sync.PollCycles));
        Metric("desksync_applier_failures_total", "counter", "Failed tries of the applier, whatever refused (each is retried).", ("", a?.Failures ?? 0));
        Metric("desksync_target_write_failures_total", "counter", "Writes the target refused (each is retried).", ("", a?.TargetFailures ?? 0));
        Metric("desksync_target_up", "gauge", "0 while the target refuses writes (events wait in the journal).", ("", a?.TargetError is null ? 1 : 0));
        Metric("desksync_streaming", "gauge", "1 once the full load finished and events are applied.", ("", sync.Streaming ? 1 : 0));
        Metric("desksync_healthy", "gauge", "1 ok or standby, 0 degraded, -1 failing (as /healthz).", ("", health.Status switch { "ok" or "standby" => 1, "degraded" => 0, _ => -1 }));
        Metric("desksync_applying", "gauge", "1 while this process applies the data source (0: another process holds its lease).", ("", sync.Standby ? 0 : 1));
        var byLabel = sync.Client.Log.ByLabel;
        Metric("desksync_api_calls_total", "counter", "Desk API calls (retries included) by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Calls))]);
        Metric("desksync_api_credits_total", "counter", "Desk API credits spent by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Credits))]);
        Metric("desksync_api_errors_total", "counter", "Desk API calls that failed, by table.", [.. byLabel.Select(kv => ($"table=\"{kv.Key}\"", (double)kv.Value.Failures))]);
        Metric("desksync_api_credits_remaining", "gauge", "Credits Zoho says remain today.", ("", sync.Client.Log.RemainingCredits ?? -1));
        return sb.ToString();
    }
}
