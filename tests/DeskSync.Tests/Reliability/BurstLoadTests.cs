using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Reliability;

/// <summary>A bounded burst of 100,000 events from concurrent senders.</summary>
/// <remarks>Alone, because it bounds the growth of the process's managed memory (2–3 MB when alone;
/// other test classes running beside it once added 300 MB of their own).</remarks>
[Trait(Lanes.Key, Lanes.Integration)]
[Collection(Isolated.Name)]
public sealed class BurstLoadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-burst-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Every_acknowledged_event_of_a_100000_event_burst_is_applied_once_and_overload_is_refused_not_swallowed()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small });
        var client = await portal.ConnectAsync();
        var db = Path.Combine(_dir, "burst.db");
        await using var sink = new SqliteSink(db, SinkMode.Document);
        var token = ServiceUrlToken.New();
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token));
        await sync.StartReceiverAsync(default);
        var (run, stop) = await Realtime.StartStreamingAsync(sync);
        using var _ = stop;

        const int Senders = 32, PerDelivery = 25, Deliveries = 4_000; // 100,000 events
        var acked = new ConcurrentBag<long>();
        var refused = 0;
        var next = -1;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Senders }) { BaseAddress = sync.Server!.Address, Timeout = TimeSpan.FromSeconds(30) };
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
        {
            int d;
            while ((d = Interlocked.Increment(ref next)) < Deliveries)
            {
                var ids = Enumerable.Range(0, PerDelivery).Select(i => 5_000_000_000_000L + (d * PerDelivery) + i).ToList();
                var body = await Webhook.TicketAdds(portal.Emulator.Portal.OrgId, ids.Select(id => id.ToString(CultureInfo.InvariantCulture)), _ => "burst").ReadAsStringAsync();
                for (var attempt = 0; attempt < 20; attempt++)
                {
                    using var response = await http.PostAsync($"/hooks/{token}", new StringContent(body, Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        ids.ForEach(acked.Add);
                        break;
                    }

                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode); // overload is said, not hidden
                    Interlocked.Increment(ref refused);
                    await Task.Delay(50); // as Zoho would, retry later
                }
            }
        })));

        await sync.WaitCaughtUpAsync(TimeSpan.FromMinutes(3));
        var after = GC.GetTotalMemory(forceFullCollection: true);
        await stop.CancelAsync();
        await run;

        Assert.Equal(100_000, acked.Count);
        Assert.Equal(100_000, sync.Applier!.EventsApplied);
        await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM tickets WHERE id >= '5000000000000'";
        Assert.Equal(100_000L, (long)(await command.ExecuteScalarAsync())!);
        Assert.True(after - before < 200L << 20, $"managed memory grew by {(after - before) >> 20} MB");
        Assert.Equal(0L, sync.Journal!.PendingBytes);
    }
}
