using DeskSync.Core;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Extensions.Logging;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>What changed while DeskSync was not listening: the downtime, the catch-up poll and reconciliation, the record of being alive.</summary>
public sealed partial class RealtimeSync
{
    /// <summary>How long DeskSync was not listening: since it was last seen alive; null when it just loaded everything.</summary>
    private async Task<TimeSpan?> DowntimeAsync(IReadOnlyList<TableLoadResult> results, CancellationToken ct)
    {
        if (results.All(r => r.Status != TableLoadStatus.AlreadyLoaded))
        {
            return null; // everything was just read: nothing can have been missed
        }

        var alive = await sink.GetCheckpointAsync(AliveStream, ct);
        var downtime = alive is null ? TimeSpan.MaxValue : options.Time.GetUtcNow() - ValueConverter.ParseTime(alive.State.Trim('"'));
        Report?.Invoke(alive is null
            ? "start: when DeskSync last listened is not recorded; catching up as after a long downtime."
            : $"start: DeskSync was not listening for {Readable(downtime)}; catching up{(downtime > options.ReconcileAfterDowntime && options.ReconcileAfterDowntime != Timeout.InfiniteTimeSpan ? ", deletes included" : "")}.");
        return downtime;
    }

    private static string Readable(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{t.TotalDays:0.#} days" : t.TotalHours >= 1 ? $"{t.TotalHours:0.#} hours" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0} minutes" : $"{t.TotalSeconds:0} seconds";

    /// <summary>
    /// What changed in Zoho while DeskSync was not listening: one poll of every table from the
    /// newest applied event (or the table's later watermark) less the overlap; after a downtime
    /// longer than <see cref="RealtimeSyncOptions.ReconcileAfterDowntime"/>, a delete reconciliation too,
    /// since a delete leaves no trace a poll can see. Retried until it works.
    /// </summary>
    private async Task CatchUpAsync(TimeSpan? downtime, CancellationToken ct)
    {
        var through = (await JournalCheckpoint.ReadAsync(sink, ct))?.Through;
        await UntilItWorksAsync(async c =>
        {
            await CatchUpPollAsync(through, "while DeskSync was not listening", c);
            if (downtime is { } d && d > options.ReconcileAfterDowntime && options.ReconcileAfterDowntime != Timeout.InfiniteTimeSpan)
            {
                await ReconcileOnceAsync(c);
                await new Schedule("reconcile", options.ReconcileInterval ?? TimeSpan.FromDays(1), sink, options.Time).MarkRunAsync(c);
            }

            return true;
        }, follow: true, error => LoadError = error, "the catch-up", ct);
        CaughtUp = true;

        // Zoho checks the service URL when a webhook is created: what changed between the catch-up
        // above and that moment reached no webhook, so it is read once more (the poll watermark
        // the catch-up left makes this cheap).
        while (true)
        {
            await _validated.WaitAsync(ct);
            while (_validated.CurrentCount > 0)
            {
                await _validated.WaitAsync(ct);
            }

            await UntilItWorksAsync(async c =>
            {
                await CatchUpPollAsync(null, "before the webhook was set up", c);
                return true;
            }, follow: true, error => LoadError = error, "the catch-up", ct);
        }
    }

    private async Task CatchUpPollAsync(DateTimeOffset? through, string when, CancellationToken ct)
    {
        var results = await new Poller(client, sink, new PollOptions { NotBefore = through, Reading = options.Snapshot }, options.Time).PollOnceAsync(options.Tables, Report, ct);
        Report?.Invoke($"catch-up: {results.Sum(r => r.Rows):N0} rows changed {when}, {results.Sum(r => r.Calls):N0} calls, {results.Sum(r => r.Credits):N0} credits");
        CatchUpPolls++;
    }

    /// <summary>Records every minute that DeskSync is listening, for the next start's downtime.</summary>
    private async Task AliveAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), options.Time);
        do
        {
            try
            {
                await sink.SaveCheckpointAsync(new Checkpoint(AliveStream, "\"" + ValueConverter.Iso(options.Time.GetUtcNow()) + "\""), ct);
            }
            catch (SinkException)
            {
                // The target is away: the applier reports it.
            }
        }
        while (await timer.WaitForNextTickAsync(ct));
    }
}
