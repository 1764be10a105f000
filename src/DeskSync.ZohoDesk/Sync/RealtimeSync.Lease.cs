using DeskSync.Core;
using DeskSync.ZohoDesk.Snapshot;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>The run under a lease: every process receives; the one holding the lease applies.</summary>
public sealed partial class RealtimeSync
{
    /// <summary>Set while this process receives and journals but another holds the lease and applies.</summary>
    public bool Standby { get; private set; }

    /// <summary>Times this process took the lease.</summary>
    public int Terms { get; private set; }

    /// <summary>
    /// Full load, then apply the journal until cancelled (or, with <paramref name="follow"/> false,
    /// to its end). With a lease, the receiver journals from the start while the process waits for
    /// the lease; once it holds it, it applies as a process alone would (the catch-up included),
    /// and when it loses it (the cluster out of reach for too long) it stops writing before another
    /// process can take over, and waits to take it again.
    /// </summary>
    public async Task<IReadOnlyList<TableLoadResult>> RunAsync(IFullLoadProgress? progress, CancellationToken cancellationToken, bool follow = true)
    {
        if (Journal is null)
        {
            await StartReceiverAsync(cancellationToken);
        }

        if (options.Lease is not { } lease)
        {
            return await ApplyAsync(progress, cancellationToken, follow);
        }

        try
        {
            while (true)
            {
                Standby = true;
                Report?.Invoke($"lease: waiting to apply{(lease.Holder is { } holder ? $" ({holder} applies now)" : "")}; webhooks are received and journaled meanwhile.");
                var lost = await lease.AcquireAsync(cancellationToken);
                Standby = false;
                Terms++;
                Report?.Invoke("lease: this process applies the data source now.");
                using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lost);
                try
                {
                    var results = await ApplyAsync(progress, term.Token, follow);
                    if (cancellationToken.IsCancellationRequested || !follow)
                    {
                        return results;
                    }
                }
                catch (OperationCanceledException) when (lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // Lost during the full load or the catch-up: what was written is committed with its checkpoints.
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && FencedBy(ex) is { } fenced)
                {
                    // The target was claimed with a later term: another process holds the lease, whatever this one was told.
                    Streaming = false;
                    Report?.Invoke($"lease: lost ({fenced.Message.TrimEnd('.')}); this process stopped applying.");
                    await lease.ReleaseAsync();
                    continue;
                }

                Streaming = false;
                Report?.Invoke($"lease: lost ({lease.LostBecause ?? "not renewed"}); this process stopped applying before another could take over.");
            }
        }
        finally
        {
            await lease.ReleaseAsync();
        }
    }

    /// <summary>The target's refusal of a write from a lease term older than the one it was claimed with, if that is what <paramref name="ex"/> is.</summary>
    private static SinkException? FencedBy(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is SinkException { Fenced: true } fenced)
            {
                return fenced;
            }
        }

        return null;
    }

    /// <summary>With a lease: its term is recorded in the target first, so that the target refuses this process's writes once a later holder claimed it.</summary>
    private async Task ClaimTargetAsync(bool follow, CancellationToken cancellationToken)
    {
        if (options.Lease?.Term is not { } term)
        {
            return;
        }

        var fenced = await UntilItWorksAsync(ct => sink.ClaimAsync(term, ct), follow, error => LoadError = error, "claiming the target", cancellationToken);
        if (!fenced && !_unfencedReported)
        {
            _unfencedReported = true;
            Report?.Invoke($"warning: {sink.Describe()} cannot refuse a process that lost the lease (only SQL targets keep lease terms); run one process per file target.");
        }
    }

    private bool _unfencedReported;
}
