using DeskSync.Core.Journal;
using DeskSync.Nats;

namespace DeskSync.Bench;

/// <summary>The journal on a three-server JetStream cluster (R3) against the local journal, and the time a takeover takes.</summary>
internal sealed partial class Benches
{
    internal async Task Cluster(int seconds, int concurrency)
    {
        const string Org = "60012345678";
        var cluster = new NatsCluster();
        await cluster.InitializeAsync();
        try
        {
            await using var nats = cluster.Connect();
            var id = 0L;
            StringContent Body()
            {
                var n = Interlocked.Increment(ref id);
                return new StringContent($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"eventTime\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\",\"payload\":{{\"id\":\"{n}\",\"modifiedTime\":\"2026-11-27T10:00:00.000Z\",\"status\":\"Open\",\"subject\":\"benchmark event {n}\"}}}}]", Encoding.UTF8, "application/json");
            }

            var journals = new (string Name, Func<Task<IJournal>> Open)[]
            {
                ("local journal (fsync)", () => Task.FromResult<IJournal>(DurableJournal.Open(Path.Combine(work, "cluster-local")))),
                ("JetStream R3", async () => await JetStreamJournal.OpenAsync(nats, JetStreamJournalOptions.For("bench-" + Guid.NewGuid().ToString("N")[..6]), CancellationToken.None)),
            };
            foreach (var (name, open) in journals)
            {
                await using var journal = await open();
                var token = ServiceUrlToken.New();
                await using var server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "http://127.0.0.1:0" }, journal,
                    new WebhookReceiverOptions { Token = token, OrgId = Org, QuarantineDirectory = Path.Combine(work, "q") });
                var url = new Uri(server.Address, "hooks/" + token);
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 });
                var watch = Stopwatch.StartNew();
                var done = await SustainedAsync(http, url, Body, seconds, concurrency);
                Report($"webhook ingest into the {name}, sustained, {concurrency} concurrent senders", $"{done / watch.Elapsed.TotalSeconds:N0} events/s acknowledged", $"cluster --seconds {seconds} --concurrency {concurrency}");
                var (p50, p99, n) = await AckLatencyAsync(http, url, Body, 1_000, Math.Min(seconds, 5));
                Report($"webhook ack latency into the {name} at 1,000 events/s offered", $"p50 {p50:N1} ms, p99 {p99:N1} ms over {n:N0} deliveries", $"cluster --seconds {seconds}");
            }

            foreach (var ttl in new[] { TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3) })
            {
                var takeover = await TakeoverAsync(cluster, ttl);
                Report($"failover with --lease-ttl {ttl.TotalSeconds:0}s: the applying process killed → the other applying", $"{takeover.TotalSeconds:N1} s", "cluster");
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Two receivers of one source with the lease; the holder dies (its NATS connection gone, nothing released); the time until an event posted then is applied by the other.</summary>
    private async Task<TimeSpan> TakeoverAsync(NatsCluster cluster, TimeSpan ttl)
    {
        var (emulator, client) = await Portal(100, 25);
        await using (emulator)
        {
            var source = "failover-" + Guid.NewGuid().ToString("N")[..6];
            var token = ServiceUrlToken.New();
            var db = Path.Combine(work, source + ".db");
            var members = new List<(RealtimeSync Sync, NATS.Client.Core.NatsConnection Nats, CancellationTokenSource Stop, Task Run)>();
            foreach (var me in new[] { "a", "b" })
            {
                var nats = cluster.Connect();
                var sync = new RealtimeSync(client, new SqliteSink(db, SinkMode.Flat), new RealtimeSyncOptions
                {
                    Name = source,
                    Tables = [DeskStreams.Tickets],
                    Server = new WebhookServerOptions { Listen = "http://127.0.0.1:0" },
                    JournalDirectory = Path.Combine(work, source, me),
                    Token = token,
                    OrgId = emulator.Portal.OrgId,
                    OpenJournal = async ct => await JetStreamJournal.OpenAsync(nats, JetStreamJournalOptions.For(source), ct),
                    Lease = await JetStreamLease.OpenAsync(nats, source, me, ttl, 3, CancellationToken.None, bucketName: "bench-" + source),
                });
                await sync.StartReceiverAsync(CancellationToken.None);
                var stop = new CancellationTokenSource();
                members.Add((sync, nats, stop, sync.RunAsync(null, stop.Token)));
            }

            while (!members.Any(m => m.Sync.Streaming))
            {
                await Task.Delay(10);
            }

            var holder = members.First(m => m.Sync.Streaming);
            var heir = members.First(m => m != holder);
            using var http = new HttpClient();
            var killed = Stopwatch.StartNew();
            await holder.Nats.DisposeAsync();
            await holder.Stop.CancelAsync();
            await holder.Run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await holder.Sync.DisposeAsync();
            using (var post = await http.PostAsync(new Uri(heir.Sync.Server!.Address, "hooks/" + token), new StringContent($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{emulator.Portal.OrgId}\",\"eventTime\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\",\"payload\":{{\"id\":\"1\",\"modifiedTime\":\"2026-11-27T10:00:00.000Z\",\"subject\":\"after the kill\"}}}}]", Encoding.UTF8, "application/json")))
            {
                post.EnsureSuccessStatusCode();
            }

            while (heir.Sync.Applier is not { EventsApplied: > 0 } && heir.Sync.Applier?.EventsIgnored is not > 0)
            {
                await Task.Delay(10);
            }

            var took = killed.Elapsed;
            await heir.Stop.CancelAsync();
            await heir.Run;
            await heir.Sync.DisposeAsync();
            await heir.Nats.DisposeAsync();
            return took;
        }
    }
}
