using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.Emulator;
using DeskSync.Nats;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;
using NATS.Client.Core;

namespace DeskSync.Tests.Webhooks;

/// <summary>
/// Two receivers of one data source behind a load balancer, journaling into one JetStream stream;
/// the lease's holder applies. The holder dies (its NATS connection gone without a word, its
/// server down); the other takes over, and the target equals the emulator.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class JetStreamRealtimeTests(NatsCluster cluster) : IClassFixture<NatsCluster>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-js-rt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_other_receiver_takes_over_when_the_applier_dies_and_nothing_is_lost()
    {
        var tables = DeskStreams.Default;
        var source = "js-" + Guid.NewGuid().ToString("N")[..8];
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 200 } });
        var token = ServiceUrlToken.New();
        await using var balancer = await LoadBalancer.StartAsync();
        var db = Path.Combine(_dir, "target.db");
        await using var a = await Receiver.StartAsync(cluster, portal, source, "a", token, db, Path.Combine(_dir, "a"), tables);
        await using var b = await Receiver.StartAsync(cluster, portal, source, "b", token, db, Path.Combine(_dir, "b"), tables);
        balancer.SetBackends([a.Sync.Server!.Address, b.Sync.Server!.Address]);
        await WebhookRegistration.RegisterAsync(await portal.ConnectAsync(), ServiceUrlToken.Url(balancer.Address.ToString(), token), tables, "DeskSync test", CancellationToken.None);

        await Eventually.UntilAsync(() => (a.Sync.Streaming && b.Sync.Standby) || (b.Sync.Streaming && a.Sync.Standby), "one receiver applying and the other standing by");
        var (holder, heir) = a.Sync.Streaming ? (a, b) : (b, a);
        var changes = new RandomChanges(portal.Emulator, seed: 5);
        await changes.RunAsync(150, TimeSpan.Zero);
        await Realtime.SettledOnJetStreamAsync(cluster, portal, holder.Sync, source);

        await holder.DieAsync();
        await changes.RunAsync(150, TimeSpan.Zero); // while nobody applies: the heir's receiver journals them
        await Eventually.UntilAsync(() => heir.Sync.Streaming && !heir.Sync.Standby, "the other receiver to take over", deadline: TimeSpan.FromSeconds(60));
        await Realtime.SettledOnJetStreamAsync(cluster, portal, heir.Sync, source);

        Assert.Equal(0, portal.Emulator.Webhooks.EventsDropped);
        Assert.Equal(1, heir.Sync.Terms);
        await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, tables);
    }

    /// <summary>One receiving process of the data source: its NATS connection, journal, lease, target and server.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private NatsConnection _nats = null!;
        private ISink _sink = null!;
        private Task _run = Task.CompletedTask;
        private readonly CancellationTokenSource _stop = new();
        private bool _dead;

        public RealtimeSync Sync { get; private set; } = null!;

        public static async Task<Receiver> StartAsync(NatsCluster cluster, TestPortal portal, string source, string me, string token, string db, string dir, IReadOnlyList<DeskStream> tables)
        {
            var receiver = new Receiver { _nats = cluster.Connect() };
            DeskClient client = await portal.ConnectAsync();
            receiver._sink = new SqliteSink(db, SinkMode.Flat);
            var lease = await JetStreamLease.OpenAsync(receiver._nats, source, me, TimeSpan.FromSeconds(3), 3, CancellationToken.None);
            receiver.Sync = new RealtimeSync(client, receiver._sink, Realtime.Options(portal, dir, tables, token) with
            {
                Name = source,
                OpenJournal = async ct => await JetStreamJournal.OpenAsync(receiver._nats, JetStreamJournalOptions.For(source), ct),
                Lease = lease,
            });
            await receiver.Sync.StartReceiverAsync(CancellationToken.None);
            receiver._run = receiver.Sync.RunAsync(null, receiver._stop.Token);
            return receiver;
        }

        /// <summary>As a killed process: its NATS connection and its server gone at once, nothing released.</summary>
        public async Task DieAsync()
        {
            _dead = true;
            await _nats.DisposeAsync();
            await _stop.CancelAsync();
            await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Sync.DisposeAsync();
            await _sink.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_dead)
            {
                await _stop.CancelAsync();
                try
                {
                    await _run;
                }
                catch (OperationCanceledException)
                {
                    // Stopped while standing by (waiting for the lease).
                }

                await Sync.DisposeAsync();
                await _sink.DisposeAsync();
                await _nats.DisposeAsync();
            }

            _stop.Dispose();
        }
    }
}
