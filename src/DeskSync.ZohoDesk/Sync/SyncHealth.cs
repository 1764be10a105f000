using System.Globalization;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>/healthz, the backlog and the apply lag, from the state of a <see cref="RealtimeSync"/>.</summary>
internal sealed class SyncHealth(RealtimeSync sync)
{
    public HealthReport Health()
    {
        if (sync.Standby)
        {
            var holder = sync.Options.Lease?.Holder is { } who ? $" ({who})" : "";
            return new HealthReport("standby", false, null, [$"another process applies this data source{holder}; this one receives and journals its webhooks"]);
        }

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
    private Core.Journal.JournalPosition From(Core.Journal.IJournal journal) =>
        sync.Applier?.Position ?? sync.AppliedAtStart ?? journal.First;

    /// <summary>Seconds since the oldest event not yet applied happened; 0 when nothing waits.</summary>
    public double ApplyLagSeconds()
    {
        if (sync.Journal is not { } journal || Backlog() == 0)
        {
            return 0;
        }

        try
        {
            if (journal.Peek(From(journal)) is { } record
                && WebhookBody.Parse(record.Payload, journaled: true).Events.Select(e => e.EventTime).Min() is { } oldest)
            {
                return Math.Max(0, (sync.Options.Time.GetUtcNow() - oldest).TotalSeconds);
            }
        }
        catch (Core.Journal.JournalDamagedException)
        {
            // The applier reports it.
        }

        return 0;
    }
}
