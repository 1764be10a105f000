using System.Globalization;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Cli.Commands;

/// <summary>`run`'s periodic line: state, events/s since the previous line (over the time that really passed), lag, backlog, totals.</summary>
internal sealed class StatusLine(RealtimeSync sync, bool webhooks, TimeProvider time)
{
    private long _lastApplied;
    private DateTimeOffset? _lastAt;

    public string Next()
    {
        var health = sync.Health();
        if (sync.Receiver is null || !webhooks)
        {
            return $"[{(sync.Streaming ? "polling" : "full load")}] {sync.PollCycles} polls{Reasons(health)}";
        }

        var r = sync.Receiver;
        var a = sync.Applier;
        var applied = a?.EventsApplied ?? 0;
        var now = time.GetUtcNow();
        // The first line has no interval behind it: it shows totals only, not a rate from the process start.
        var rate = _lastAt is { } then && sync.Streaming ? (applied - _lastApplied) / Math.Max(0.001, (now - then).TotalSeconds) : (double?)null;
        (_lastApplied, _lastAt) = (applied, sync.Streaming ? now : null);
        var metrics = sync.Metrics();
        var state = !sync.Streaming ? "full load" : health.Status == "ok" ? "streaming" : health.Status;
        return string.Create(CultureInfo.InvariantCulture,
            $"[{state}] {(rate is { } x ? $"{x:N1} events/s applied, " : "")}lag {Gauge(metrics, "desksync_apply_lag_seconds"):N1} s, journal backlog {Gauge(metrics, "desksync_journal_backlog_bytes"):N0} bytes; totals: {r.Accepted:N0} deliveries accepted, {r.Refused:N0} refused, {r.EventsAccepted:N0} events received, {r.Duplicates:N0} repeats, {applied:N0} applied, {a?.EventsIgnored ?? 0:N0} ignored, {a?.EventsQuarantined ?? 0:N0} quarantined, {a?.Rereads ?? 0:N0} re-read{Reasons(health)}");
    }

    private static string Reasons(HealthReport health) => health.Reasons.Count == 0 ? "" : " — " + string.Join("; ", health.Reasons);

    private static double Gauge(string text, string name) =>
        text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Select(l => double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();
}
