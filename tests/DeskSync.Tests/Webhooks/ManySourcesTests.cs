using System.Net;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Webhooks;

/// <summary>Several data sources (two portals) on one listener: each its own URL, target, health and metrics.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ManySourcesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-many-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Two_portals_on_one_listener_each_land_in_their_own_target_and_are_shown_apart()
    {
        var tables = DeskStreams.Default;
        await using var server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "http://127.0.0.1:0" });
        await using var east = await Source.StartAsync("east", server, _dir, tables, seed: 1);
        await using var west = await Source.StartAsync("west", server, _dir, tables, seed: 2);
        using var http = new HttpClient();

        await Task.WhenAll(east.ChangeAndSettleAsync(), west.ChangeAndSettleAsync());
        await east.VerifyAsync();
        await west.VerifyAsync();

        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.AdminAddress, "healthz")));
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal(["east", "west"], health.RootElement.GetProperty("sources").EnumerateObject().Select(p => p.Name));
        Assert.True(health.RootElement.GetProperty("sources").GetProperty("west").GetProperty("streaming").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.AdminAddress, "healthz/east"))).StatusCode);
        var metrics = await http.GetStringAsync(new Uri(server.AdminAddress, "metrics"));
        Assert.Equal(1, metrics.Split('\n').Count(l => l == "# TYPE desksync_events_applied_total counter"));
        Assert.Contains($"desksync_events_applied_total{{source=\"east\"}} {east.Sync.Applier!.EventsApplied}\n", metrics);
        Assert.Contains($"desksync_events_applied_total{{source=\"west\"}} {west.Sync.Applier!.EventsApplied}\n", metrics);
        Assert.Contains("desksync_api_calls_total{source=\"west\",table=\"tickets\"}", metrics);

        // A wrong token is a stranger's 404; a source stopped answers 404 while the other goes on.
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync(new Uri(server.Address, "hooks/" + ServiceUrlToken.New()), new StringContent("[]"))).StatusCode);
        server.SetProblem("east", "stopped: the grant was revoked");
        using (var failing = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.AdminAddress, "healthz"))))
        {
            Assert.Equal("failing", failing.RootElement.GetProperty("status").GetString());
            Assert.Equal("failing", failing.RootElement.GetProperty("sources").GetProperty("east").GetProperty("status").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.AdminAddress, "healthz"))).StatusCode); // west still works: stay in rotation
        await east.DisposeAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(east.Url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(west.Url)).StatusCode);
    }

    /// <summary>One portal and its data source on the shared server.</summary>
    private sealed class Source : IAsyncDisposable
    {
        private TestPortal _portal = null!;
        private ISink _sink = null!;
        private Task _run = Task.CompletedTask;
        private readonly CancellationTokenSource _stop = new();
        private bool _disposed;

        public RealtimeSync Sync { get; private set; } = null!;

        public string Url { get; private set; } = "";

        private string Db { get; set; } = "";

        private int Seed { get; set; }

        private IReadOnlyList<DeskStream> Tables { get; set; } = [];

        public static async Task<Source> StartAsync(string name, WebhookServer server, string dir, IReadOnlyList<DeskStream> tables, int seed)
        {
            var source = new Source { Seed = seed, Tables = tables, Db = Path.Combine(dir, name + ".db") };
            source._portal = await TestPortal.StartAsync();
            var client = await source._portal.ConnectAsync();
            source._sink = new SqliteSink(source.Db, SinkMode.Flat);
            var token = ServiceUrlToken.New();
            source.Sync = new RealtimeSync(client, source._sink, Realtime.Options(source._portal, Path.Combine(dir, name), tables, token) with { Name = name, SharedServer = server });
            await source.Sync.StartReceiverAsync(CancellationToken.None);
            source.Url = ServiceUrlToken.Url(server.Address.ToString(), token);
            await WebhookRegistration.RegisterAsync(client, source.Url, tables, "DeskSync test", CancellationToken.None);
            source._run = source.Sync.RunAsync(null, source._stop.Token);
            return source;
        }

        public async Task ChangeAndSettleAsync()
        {
            await Eventually.UntilAsync(() => Sync.Streaming, "the full load to finish");
            await new RandomChanges(_portal.Emulator, Seed).RunAsync(200, TimeSpan.Zero);
            await _portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
            await Sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
        }

        public async Task VerifyAsync()
        {
            await using var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
            await connection.OpenAsync();
            await TargetVerifier.VerifyAsync(connection, _portal.Emulator, SinkMode.Flat, Tables);
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _stop.CancelAsync();
            await _run;
            await Sync.DisposeAsync();
            await _sink.DisposeAsync();
            await _portal.DisposeAsync();
            _stop.Dispose();
        }
    }
}
