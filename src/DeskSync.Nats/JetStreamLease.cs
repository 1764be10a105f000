using DeskSync.Core.Locking;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace DeskSync.Nats;

/// <summary>
/// A data source's lease as a key in a replicated JetStream key-value bucket whose entries live
/// <see cref="Ttl"/>: a process takes it by creating the key (which succeeds for one process
/// only), keeps it by updating it at the revision it last wrote every third of the time to live,
/// and lets go by deleting it. A holder that cannot renew gives up before the key can expire on
/// the servers (its own clock, counted from before its last successful renewal was sent), so two
/// processes never apply at once; a holder that dies is replaced once its key expired.
/// </summary>
public sealed class JetStreamLease : ISourceLease
{
    private readonly INatsKVStore _bucket;
    private readonly string _key;
    private readonly string _me;
    private readonly TimeProvider _time;
    private CancellationTokenSource? _held;
    private Task? _renewing;
    private readonly string _epoch;
    private ulong _revision;

    private JetStreamLease(LeaseBucket bucket, string key, string me, TimeProvider time)
    {
        _bucket = bucket.Store;
        _epoch = bucket.Epoch;
        Ttl = bucket.Ttl;
        _key = key;
        _me = me;
        _time = time;
    }

    public TimeSpan Ttl { get; }

    public bool Held => _held is { IsCancellationRequested: false };

    public string? Holder { get; private set; }

    /// <summary>The revision that created the key (the bucket's sequences only grow) in this bucket: the fencing token of this holding.</summary>
    public LeaseTerm? Term { get; private set; }

    /// <summary>Why the lease was last lost: the cluster out of reach, or handed over to spread the sources.</summary>
    public string? LostBecause { get; private set; }

    /// <summary>Successful renewals since this process first took the lease.</summary>
    public long Renewals => Interlocked.Read(ref _renewals);

    private long _renewals;

    /// <summary>The process's group of leases this one belongs to (it spreads the sources); null: none.</summary>
    internal JetStreamLeases? Group { get; init; }

    /// <summary>The lease on <paramref name="source"/> in the bucket <paramref name="bucketName"/> (made, replicated, when missing).</summary>
    public static async Task<JetStreamLease> OpenAsync(INatsConnection connection, string source, string me, TimeSpan ttl, int replicas, CancellationToken ct, TimeProvider? time = null, string bucketName = "desksync-leases")
    {
        var bucket = await LeaseBucket.OpenAsync(connection, bucketName, ttl, replicas, ct);
        return new JetStreamLease(bucket, JetStreamJournalOptions.Safe(source), me, time ?? TimeProvider.System);
    }

    internal static JetStreamLease In(LeaseBucket bucket, string source, string me, TimeProvider time, JetStreamLeases group) =>
        new(bucket, JetStreamJournalOptions.Safe(source), me, time) { Group = group };

    /// <summary>Lets go of a held lease so that a process with fewer takes it (the sources spread).</summary>
    internal async Task HandOverAsync()
    {
        if (Held)
        {
            LostBecause = "handed over to a process applying fewer data sources";
            await ReleaseAsync();
        }
    }

    public async Task<CancellationToken> AcquireAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? unheldSince = null;
        while (true)
        {
            if (Group is { } group && !group.MayTakeMore)
            {
                // This process applies its share already: the lease is left to the others, and
                // taken only when nobody took it for a whole lifetime.
                await SeeHolderAsync(cancellationToken);
                unheldSince = Holder is null ? unheldSince ?? _time.GetUtcNow() : null;
                if (unheldSince is null || _time.GetUtcNow() - unheldSince < Ttl)
                {
                    await Task.Delay(Ttl / 10, _time, cancellationToken);
                    continue;
                }
            }

            var asked = _time.GetUtcNow();
            try
            {
                _revision = await _bucket.CreateAsync(_key, _me, cancellationToken: cancellationToken);
                Term = new LeaseTerm(_key, _epoch, (long)_revision, _me);
                LostBecause = null;
                Holder = _me;
                _held = new CancellationTokenSource();
                _renewing = RenewAsync(asked, _held);
                return _held.Token;
            }
            catch (NatsKVCreateException)
            {
                await SeeHolderAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // The cluster is away: keep asking.
            }

            await Task.Delay(Ttl / 10, _time, cancellationToken);
        }
    }

    private async Task SeeHolderAsync(CancellationToken ct)
    {
        try
        {
            var entry = await _bucket.GetEntryAsync<string>(_key, cancellationToken: ct);
            Holder = entry.Value;
        }
        catch (NatsKVKeyNotFoundException)
        {
            Holder = null;
        }
        catch (NatsKVKeyDeletedException)
        {
            Holder = null;
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException && !ct.IsCancellationRequested)
        {
            // The cluster is away: who holds it stays as last seen.
        }
    }

    private async Task RenewAsync(DateTimeOffset renewed, CancellationTokenSource held)
    {
        // Gives up a margin before the servers could let the key expire, counted from before the
        // last successful renewal was sent — whenever the tries in between happen or hang.
        var giveUpAfter = Ttl * 0.8;
        while (!held.IsCancellationRequested)
        {
            var giveUpAt = renewed + giveUpAfter;
            try
            {
                var wait = Min(Ttl / 3, giveUpAt - _time.GetUtcNow());
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, held.Token);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var asked = _time.GetUtcNow();
            if (asked >= giveUpAt)
            {
                break;
            }

            try
            {
                using var timeout = new CancellationTokenSource(Min(Ttl / 3, giveUpAt - asked), _time);
                _revision = await _bucket.UpdateAsync(_key, _me, _revision, cancellationToken: timeout.Token);
                renewed = asked;
                Interlocked.Increment(ref _renewals);
            }
            catch (NatsKVWrongLastRevisionException)
            {
                break; // the key expired and another process took it
            }
            catch (Exception) when (held.IsCancellationRequested)
            {
                return; // let go of meanwhile (a release, a process stopping): whatever this try did no longer matters
            }
            catch (Exception)
            {
                // Whatever failed (the cluster away, the connection closed, no answer in time), this
                // try did not renew; the next waits no longer than the time left.
            }
        }

        Holder = null;
        Term = null;
        LostBecause ??= "the NATS cluster was out of reach for too long to renew it";
        await held.CancelAsync();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public async Task ReleaseAsync()
    {
        if (_held is not { } held)
        {
            return;
        }

        var stillHeld = !held.IsCancellationRequested;
        await held.CancelAsync();
        if (_renewing is not null)
        {
            await _renewing;
        }

        if (stillHeld)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _bucket.DeleteAsync(_key, new NatsKVDeleteOpts { Revision = _revision }, timeout.Token);
            }
            catch (Exception)
            {
                // Not deleted (the cluster or the connection away): the key expires on its own.
            }
        }

        held.Dispose();
        _held = null;
        Holder = null;
        Term = null;
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        Group?.Forget(this);
    }
}
