using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace DeskSync.Nats;

/// <summary>
/// A process's leases, one per data source it serves, spread across the processes that serve the
/// same sources: each process counts the live processes (a key of its own, renewed like a lease, in
/// the bucket <c>desksync-members</c>), takes a lease only while it holds fewer than its share
/// (sources ÷ processes, rounded up), and hands one over when it holds more — at most one per two
/// lifetimes, so that a process joining takes sources gradually and a flapping one moves little.
/// </summary>
public sealed class JetStreamLeases : IAsyncDisposable
{
    private readonly LeaseBucket _leases;
    private readonly INatsKVStore _members;
    private readonly string _me;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _time;
    private readonly List<JetStreamLease> _mine = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private DateTimeOffset _lastHandOver = DateTimeOffset.MinValue;

    private JetStreamLeases(LeaseBucket leases, INatsKVStore members, string me, TimeSpan ttl, TimeProvider time)
    {
        _leases = leases;
        _members = members;
        _me = me;
        _ttl = ttl;
        _time = time;
    }

    /// <summary>Live processes serving the sources, as last counted (at least this one).</summary>
    public int Members { get; private set; } = 1;

    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _mine.Count(l => l.Held);
            }
        }
    }

    /// <summary>How many leases this process may hold: its share of the sources, rounded up.</summary>
    public int Share
    {
        get
        {
            lock (_gate)
            {
                return (_mine.Count + Members - 1) / Math.Max(1, Members);
            }
        }
    }

    internal bool MayTakeMore => Held < Share;

    public static async Task<JetStreamLeases> OpenAsync(INatsConnection connection, string me, TimeSpan ttl, int replicas, CancellationToken ct, TimeProvider? time = null, string prefix = "desksync")
    {
        var leases = await LeaseBucket.OpenAsync(connection, prefix + "-leases", ttl, replicas, ct);
        var members = await LeaseBucket.OpenAsync(connection, prefix + "-members", leases.Ttl, replicas, ct);
        var group = new JetStreamLeases(leases, members.Store, me, leases.Ttl, time ?? TimeProvider.System);
        await group.CountAsync(ct);
        group._loop = group.KeepUpAsync(group._stop.Token);
        return group;
    }

    /// <summary>The lease of <paramref name="source"/>, in this group.</summary>
    public JetStreamLease For(string source)
    {
        var lease = JetStreamLease.In(_leases, source, _me, _time, this);
        lock (_gate)
        {
            _mine.Add(lease);
        }

        return lease;
    }

    /// <summary>Forgets a source this process no longer serves.</summary>
    public void Forget(JetStreamLease lease)
    {
        lock (_gate)
        {
            _mine.Remove(lease);
        }
    }

    private async Task KeepUpAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_ttl / 3, _time, ct);
                await CountAsync(ct);
                await HandOverSurplusAsync();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The cluster is away: the count stays as it was; the leases give up on their own.
            }
        }
    }

    private async Task CountAsync(CancellationToken ct)
    {
        await _members.PutAsync(JetStreamJournalOptions.Safe(_me), _time.GetUtcNow().ToString("O"), cancellationToken: ct);
        var live = 0;
        await foreach (var _ in _members.GetKeysAsync(cancellationToken: ct))
        {
            live++;
        }

        Members = Math.Max(1, live);
    }

    private async Task HandOverSurplusAsync()
    {
        JetStreamLease? surplus = null;
        lock (_gate)
        {
            if (Held > Share && _time.GetUtcNow() - _lastHandOver > _ttl * 2)
            {
                surplus = _mine.LastOrDefault(l => l.Held);
            }
        }

        if (surplus is not null)
        {
            _lastHandOver = _time.GetUtcNow();
            await surplus.HandOverAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _members.DeleteAsync(JetStreamJournalOptions.Safe(_me), cancellationToken: timeout.Token);
        }
        catch (Exception)
        {
            // Not deleted: it expires on its own.
        }

        _stop.Dispose();
    }
}
