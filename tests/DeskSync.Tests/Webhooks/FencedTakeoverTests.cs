using DeskSync.Core;
using DeskSync.Core.Locking;
using DeskSync.Emulator;
using DeskSync.Nats;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Webhooks;

/// <summary>
/// The lease store wrongly grants the lease to a second process while the first still holds it
/// (the failure fencing exists for): the target, claimed with the later term, refuses the first
/// process's writes; it stops applying without quarantining anything, and the target ends equal
/// to the emulator, deletes included.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class FencedTakeoverTests(NatsCluster cluster) : IClassFixture<NatsCluster>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-fenced-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_holder_granted_twice_is_fenced_out_by_the_later_term()
    {
        var tables = DeskStreams.Default;
        var source = "fenced-" + Guid.NewGuid().ToString("N")[..8];
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 100 } });
        var token = ServiceUrlToken.New();
        var db = Path.Combine(_dir, "target.db");
        await using var nats = cluster.Connect();
        var reports = new List<string>();

        var firstLease = new GrantedLease("first", 1);
        await using var first = await StartAsync(portal, nats, source, token, db, "first", firstLease, tables, line => { lock (reports) { reports.Add(line); } });
        await WebhookRegistration.RegisterAsync(await portal.ConnectAsync(), ServiceUrlToken.Url(first.Sync.Server!.Address.ToString(), token), tables, "DeskSync test", CancellationToken.None);
        var changes = new RandomChanges(portal.Emulator, seed: 11);
        await changes.RunAsync(100, TimeSpan.Zero);
        await Realtime.SettledOnJetStreamAsync(cluster, portal, first.Sync, source);

        // The second process is granted the same lease: it claims the target with term 2.
        await using var second = await StartAsync(portal, nats, source, token, db, "second", new GrantedLease("second", 2), tables, null);
        await Eventually.UntilAsync(() => second.Sync.Streaming && second.Sync.Applier is not null, "the second process to apply");
        await changes.RunAsync(150, TimeSpan.Zero); // the first process receives them; only the second may apply them
        await Eventually.UntilAsync(() => first.Sync.Standby, "the first process to stop applying", () => string.Join(" | ", reports), TimeSpan.FromSeconds(60));
        await Realtime.SettledOnJetStreamAsync(cluster, portal, second.Sync, source);

        Assert.Contains(reports, r => r.Contains("lease: lost", StringComparison.Ordinal) && r.Contains("second", StringComparison.Ordinal));
        Assert.True(firstLease.Released);
        Assert.Equal(0, first.Sync.Applier!.EventsQuarantined);
        Assert.Equal(0, second.Sync.Applier!.EventsQuarantined);
        await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, tables);
    }

    private async Task<Running> StartAsync(TestPortal portal, NATS.Client.Core.NatsConnection nats, string source, string token, string db, string name, ISourceLease lease, IReadOnlyList<DeskStream> tables, Action<string>? report)
    {
        var sink = new SqliteSink(db, SinkMode.Flat);
        var sync = new RealtimeSync(await portal.ConnectAsync(), sink, Realtime.Options(portal, Path.Combine(_dir, name), tables, token) with
        {
            Name = source,
            OpenJournal = async ct => await JetStreamJournal.OpenAsync(nats, JetStreamJournalOptions.For(source), ct),
            Lease = lease,
        });
        if (report is not null)
        {
            sync.Report += report;
        }

        await sync.StartReceiverAsync(CancellationToken.None);
        var stop = new CancellationTokenSource();
        return new Running(sync, sink, stop, sync.RunAsync(null, stop.Token));
    }

    private sealed record Running(RealtimeSync Sync, ISink Sink, CancellationTokenSource Stop, Task Run) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Stop.CancelAsync();
            try
            {
                await Run;
            }
            catch (OperationCanceledException)
            {
                // Stopped while standing by (waiting for the lease).
            }

            await Sync.DisposeAsync();
            await Sink.DisposeAsync();
            Stop.Dispose();
        }
    }

    /// <summary>A lease store that grants every process the lease once, as a faulty store would: each gets its own term.</summary>
    private sealed class GrantedLease(string me, long term) : ISourceLease
    {
        private CancellationTokenSource? _held;
        private bool _granted;

        public bool Held => _held is { IsCancellationRequested: false };

        public bool Released { get; private set; }

        public string? Holder => Held ? me : null;

        public LeaseTerm? Term => Held ? new LeaseTerm("fenced", "store", term, me) : null;

        public string? LostBecause => null;

        public async Task<CancellationToken> AcquireAsync(CancellationToken cancellationToken)
        {
            if (_granted)
            {
                await new TaskCompletionSource().Task.WaitAsync(cancellationToken); // granted once only: never again
            }

            _granted = true;
            _held = new CancellationTokenSource();
            return _held.Token;
        }

        public async Task ReleaseAsync()
        {
            Released |= Held;
            if (_held is { } held)
            {
                await held.CancelAsync();
            }
        }

        public ValueTask DisposeAsync()
        {
            _held?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
