using DeskSync.Core;
using DeskSync.ZohoDesk.Auth;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>
/// A periodic task (polling, delete reconciliation) whose last run is kept in the target, so that
/// a restart neither starts its interval over (restarts more often than the interval would
/// otherwise mean it never runs) nor runs it again early. A failed run is reported and tried again
/// after a minute (or the interval, if shorter); only what cannot heal ends it.
/// </summary>
internal sealed class Schedule(string name, TimeSpan interval, ISink sink, TimeProvider time)
{
    private string Stream => "schedule/" + name;

    public async Task RunAsync(Func<CancellationToken, Task> action, Action<string?> error, Action<string>? report, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var last = await LastRunAsync(ct);
                if (last is null)
                {
                    await MarkRunAsync(ct); // the first start: the catch-up or the full load just read everything
                    last = time.GetUtcNow();
                }

                var wait = last.Value + interval - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, ct);
                }

                await action(ct);
                await MarkRunAsync(ct);
                error(null);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is not (OperationCanceledException or ZohoAuthException { IsTransient: false } or SinkException { Retryable: false }))
            {
                // A failed run changes nothing it did not commit; it is tried again soon.
                error($"the {name} failed: {ex.Message}");
                report?.Invoke($"warning: the {name} failed: {ex.Message.TrimEnd('.')}. Trying again in a minute.");
                await Task.Delay(interval < TimeSpan.FromMinutes(1) ? interval : TimeSpan.FromMinutes(1), time, ct);
            }
        }
    }

    public Task MarkRunAsync(CancellationToken ct) =>
        sink.SaveCheckpointAsync(new Checkpoint(Stream, "\"" + ValueConverter.Iso(time.GetUtcNow()) + "\""), ct);

    private async Task<DateTimeOffset?> LastRunAsync(CancellationToken ct) =>
        await sink.GetCheckpointAsync(Stream, ct) is { } saved ? ValueConverter.ParseTime(saved.State.Trim('"')) : null;
}
