using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Reliability;

/// <summary>
/// Two data sources (two portals) served by two `desksync run` processes behind a load balancer,
/// journaling into a three-server JetStream cluster. While clients post deliveries for both
/// sources, rounds SIGKILL a DeskSync process (started again at once) and, every other round, a
/// NATS server. Each source's change log must hold every acknowledged event exactly once, and
/// every ticket of its portal loaded exactly once.
/// </summary>
[Trait(Lanes.Key, Lanes.Process)]
[RunsLong]
public sealed class ClusterKillRoundsTests : IAsyncLifetime
{
    private const int Tickets = 300;
    private const int Rounds = 6;
    private static readonly string[] Sources = ["east", "west"];
    private readonly NatsCluster _cluster = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-cluster-").FullName;
    private readonly List<EmulatorProcess> _emulators = [];

    private string Config => Path.Combine(_dir, "desksync.json");

    public async Task InitializeAsync()
    {
        await _cluster.InitializeAsync();
        // Each source writes its own change log, where a record written twice shows as a second line.
        foreach (var source in Sources)
        {
            var emulator = await EmulatorProcess.StartAsync(_dir, "--tickets", Tickets.ToString(CultureInfo.InvariantCulture));
            _emulators.Add(emulator);
            await emulator.AuthAsSourceAsync(Config, source, "jsonl:" + Path.Combine(_dir, source + "-out"));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var emulator in _emulators)
        {
            await emulator.DisposeAsync();
        }

        await _cluster.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Killing_desksync_processes_and_nats_servers_loses_nothing_and_applies_nothing_twice()
    {
        string[] args = ["run", "--config", Config, "--tables", "tickets", "--journal", _cluster.Url, "--lease-ttl", "3s", "--listen", "http://127.0.0.1:0", "--admin-listen", "http://127.0.0.1:0"];
        await using var balancer = await LoadBalancer.StartAsync();
        var processes = new RunningDeskSync?[2];
        async Task StartAsync(int i)
        {
            processes[i] = RunningDeskSync.Start(_dir, args);
            await processes[i]!.WaitForAsync(() => Serving(processes[i]!) is not null, "run to listen");
            balancer.SetBackends(processes.Where(p => p is not null && !p.Process.HasExited).Select(p => Serving(p!)!));
        }

        await StartAsync(0);
        await StartAsync(1);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.UntilAsync(async () => (await ApplyingAsync(probe, processes)).All(n => n == 1), "the two sources spread across the two processes", null, TimeSpan.FromSeconds(60));

        var acked = Sources.ToDictionary(s => s, _ => new ConcurrentBag<string>());
        var sent = 0L;
        using var stop = new CancellationTokenSource();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var posters = Sources.SelectMany((source, n) => Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var token = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, ".desksync", "secrets", source + ".service-token.json"))).RootElement.GetProperty("Token").GetString();
            var orgId = _emulators[n].Value("orgId");
            while (!stop.IsCancellationRequested)
            {
                var ids = Enumerable.Range(0, 1 + (int)(Interlocked.Increment(ref sent) % 3)).Select(_ => (9_000_000_000L + Interlocked.Increment(ref sent)).ToString(CultureInfo.InvariantCulture)).ToList();
                if (await Webhook.TryDeliverAsync(http, new Uri(balancer.Address, $"hooks/{token}"), Webhook.TicketAdds(orgId, ids)))
                {
                    ids.ForEach(acked[source].Add);
                    await Task.Delay(40); // about a hundred deliveries a second in all: a busy help desk, not a flood
                }
                else
                {
                    await Task.Delay(20); // no receiver could take it now: Zoho sends it again later
                }
            }
        }))).ToArray();

        var said = new List<string>();
        var random = new Random(25);
        for (var round = 0; round < Rounds; round++)
        {
            await Task.Delay(random.Next(500, 2_000));
            var victim = round % 2;
            processes[victim]!.Process.Kill(); // SIGKILL
            await processes[victim]!.Process.WaitForExitAsync();
            said.AddRange(processes[victim]!.Lines);
            await processes[victim]!.DisposeAsync();
            processes[victim] = null;
            if (round % 2 == 1)
            {
                var server = round / 2 % 3;
                _cluster.Kill(server);
                await Task.Delay(random.Next(200, 1_000));
                _cluster.Start(server);
            }

            await StartAsync(victim);

            // The next kill waits until every source is applied again by one of the processes.
            await Eventually.UntilAsync(() => EverySourceAppliedAsync(http, processes), $"every source applied again after round {round}", null, TimeSpan.FromSeconds(60));
        }

        await Task.Delay(1_000);
        await stop.CancelAsync();
        await Task.WhenAll(posters);

        foreach (var (source, n) in Sources.Select((s, n) => (s, n)))
        {
            var log = Path.Combine(_dir, source + "-out", "tickets.jsonl");
            var wanted = acked[source].ToHashSet();
            await Eventually.UntilAsync(() => Applied(log).Keys.ToHashSet().IsSupersetOf(wanted), $"every acknowledged event of {source} applied",
                () => string.Join('\n', processes.Select(p => p?.Said)), TimeSpan.FromMinutes(2));
            var applied = Applied(log);
            var loaded = Lines(log).Where(e => e.GetProperty("op").GetString() == "r").GroupBy(e => e.GetProperty("id").ToString()).ToDictionary(g => g.Key, g => g.Count());

            Assert.True(wanted.Count > 200, $"only {wanted.Count} events of {source} were acknowledged");
            Assert.Equal(Tickets, loaded.Count);
            Assert.All(loaded, kv => Assert.True(kv.Value == 1, $"{source}: ticket {kv.Key} was loaded {kv.Value} times"));
            var twice = applied.Where(kv => kv.Value > 1).ToList();
            Assert.True(twice.Count == 0, $"{source}: {twice.Count} events were applied more than once, e.g. {string.Join(", ", twice.Take(5).Select(kv => kv.Key))}");
        }

        foreach (var p in processes)
        {
            said.AddRange(p!.Lines);
            await p.DisposeAsync();
        }

        // Every kill of a process that applied a source handed it to the other process.
        var takeovers = said.Count(l => l.EndsWith("lease: this process applies the data source now.", StringComparison.Ordinal));
        Assert.True(takeovers >= Sources.Length + Rounds, $"{takeovers} times a process took a source's lease in {Rounds} rounds");
    }

    /// <summary>How many sources each process applies.</summary>
    private static async Task<List<int>> ApplyingAsync(HttpClient http, IEnumerable<RunningDeskSync?> processes)
    {
        var counts = new List<int>();
        foreach (var p in processes.Where(p => p is not null))
        {
            var admin = System.Text.RegularExpressions.Regex.Match(p!.Said, @"health and metrics of each on (\S+)healthz");
            try
            {
                using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(new Uri(admin.Groups[1].Value), "healthz")));
                counts.Add(health.RootElement.GetProperty("sources").EnumerateObject().Count(s => s.Value.GetProperty("streaming").GetBoolean()));
            }
            catch (Exception ex) when (ex is HttpRequestException or KeyNotFoundException or UriFormatException)
            {
                counts.Add(-1);
            }
        }

        return counts;
    }

    private static async Task<bool> EverySourceAppliedAsync(HttpClient http, IEnumerable<RunningDeskSync?> processes)
    {
        var applying = new HashSet<string>();
        foreach (var p in processes.Where(p => p is not null))
        {
            if (System.Text.RegularExpressions.Regex.Match(p!.Said, @"health and metrics of each on (\S+)healthz") is not { Success: true } admin)
            {
                continue;
            }

            try
            {
                using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(new Uri(admin.Groups[1].Value), "healthz")));
                if (health.RootElement.TryGetProperty("sources", out var sources)) // not until both sources are added
                {
                    applying.UnionWith(sources.EnumerateObject().Where(s => s.Value.GetProperty("streaming").GetBoolean()).Select(s => s.Name));
                }
            }
            catch (HttpRequestException)
            {
            }
        }

        return Sources.All(applying.Contains);
    }

    private static Uri? Serving(RunningDeskSync process) =>
        process.Lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^Serving \d+ data sources \(.*\) on (\S+?);")).FirstOrDefault(m => m.Success) is { } found
            ? new Uri(found.Groups[1].Value)
            : null;

    private static Dictionary<string, int> Applied(string log) =>
        Lines(log).Where(e => e.GetProperty("op").GetString() == "c").GroupBy(e => e.GetProperty("id").ToString()).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The log's whole lines (a writer may be part-way through the last one).</summary>
    private static List<JsonElement> Lines(string log)
    {
        if (!File.Exists(log))
        {
            return [];
        }

        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(stream).ReadToEnd();
        var whole = text[..(text.LastIndexOf('\n') + 1)];
        return [.. whole.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
    }
}
