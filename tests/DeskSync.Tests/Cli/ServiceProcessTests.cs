using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>`desksync run` serving several sources: SIGHUP starts the ones added and stops the ones removed; one that cannot go on is reported while the other goes on.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class ServiceProcessTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-reload-").FullName;
    private readonly Dictionary<string, EmulatorProcess> _emulators = [];

    private string Config => Path.Combine(_dir, "desksync.json");

    public async Task InitializeAsync()
    {
        foreach (var source in new[] { "east", "west" })
        {
            _emulators[source] = await EmulatorProcess.StartAsync(_dir, "--tickets", "50");
        }

        await AuthAsync("east");
    }

    public async Task DisposeAsync()
    {
        foreach (var emulator in _emulators.Values)
        {
            await emulator.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_source_added_starts_and_a_source_removed_stops_on_SIGHUP_while_the_other_goes_on()
    {
        // As from a terminal: a test run started under nohup would pass SIGHUP on ignored.
        await using var run = RunningDeskSync.StartAsFromTerminal(_dir, "run", "--config", Config, "--all-sources", "--tables", "tickets", "--listen", "http://127.0.0.1:0", "--admin-listen", "http://127.0.0.1:0");
        await run.WaitForAsync(() => run.Said.Contains("[east] Receiving webhooks on", StringComparison.Ordinal), "east to be received");
        var listener = new Uri(System.Text.RegularExpressions.Regex.Match(run.Said, @"on (\S+?); health and metrics of each on (\S+?)healthz").Groups[1].Value);
        var admin = new Uri(System.Text.RegularExpressions.Regex.Match(run.Said, @"health and metrics of each on (\S+?)healthz").Groups[1].Value);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ServiceUrl(listener, "east"))).StatusCode);

        await AuthAsync("west");
        Hangup(run);
        await run.WaitForAsync(() => run.Said.Contains("[west] Receiving webhooks on", StringComparison.Ordinal), "west to start after SIGHUP");
        Assert.Contains("settings re-read: started west; no source removed", run.Said);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ServiceUrl(listener, "west"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ServiceUrl(listener, "east"))).StatusCode);
        await Eventually.UntilAsync(() => StreamingAsync(http, admin, "west"), "west's full load", () => run.Said);
        Assert.Equal(1, run.Lines.Count(l => l.StartsWith("[east] Receiving webhooks on", StringComparison.Ordinal))); // east was not restarted

        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Config))!;
        settings["sources"]!.AsObject().Remove("east");
        await File.WriteAllTextAsync(Config, settings.ToJsonString());
        Hangup(run);
        await run.WaitForAsync(() => run.Said.Contains("settings re-read: no source added; stopped east", StringComparison.Ordinal), "east to stop after SIGHUP");
        await Eventually.UntilAsync(async () => (await http.GetAsync(ServiceUrl(listener, "east"))).StatusCode == HttpStatusCode.NotFound, "east's service URL to answer 404");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ServiceUrl(listener, "west"))).StatusCode);
        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(admin, "healthz")));
        Assert.Equal(["west"], health.RootElement.GetProperty("sources").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_source_that_cannot_go_on_is_reported_and_shown_failing_while_the_other_goes_on()
    {
        // east's target holds its tables in flat mode; its settings now ask for document mode, which only the operator can settle.
        var sync = await DeskSyncProcess.RunAsync(_dir, null, "sync", "--config", Config, "--source", "east", "--tables", "tickets");
        Assert.True(sync.ExitCode == 0, sync.Stderr);
        await AuthAsync("west");
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Config))!;
        settings["sources"]!["east"]!["mode"] = "document";
        await File.WriteAllTextAsync(Config, settings.ToJsonString());

        await using var run = RunningDeskSync.Start(_dir, "run", "--config", Config, "--tables", "tickets", "--listen", "http://127.0.0.1:0", "--admin-listen", "http://127.0.0.1:0");
        await run.WaitForAsync(() => run.Lines.Any(l => l.StartsWith("[east] warning: ", StringComparison.Ordinal) && l.Contains("The other data sources go on", StringComparison.Ordinal)), "east's failure to be reported");
        var admin = new Uri(System.Text.RegularExpressions.Regex.Match(run.Said, @"health and metrics of each on (\S+?)healthz").Groups[1].Value);
        using var http = new HttpClient();
        await Eventually.UntilAsync(() => StreamingAsync(http, admin, "west"), "west's full load", () => run.Said);
        var answer = await http.GetAsync(new Uri(admin, "healthz"));
        using var health = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode); // west still receives: the process stays in rotation
        Assert.Equal("failing", health.RootElement.GetProperty("status").GetString());
        Assert.Equal("failing", health.RootElement.GetProperty("sources").GetProperty("east").GetProperty("status").GetString());
        Assert.Contains("document", health.RootElement.GetProperty("sources").GetProperty("east").GetProperty("reasons")[0].GetString());
        Assert.Equal("ok", health.RootElement.GetProperty("sources").GetProperty("west").GetProperty("status").GetString());
        Assert.False(run.Process.HasExited);

        var status = await DeskSyncProcess.RunAsync(_dir, null, "status", "--config", Config);
        Assert.Contains("Data source 'east'", status.Stdout);
        Assert.Contains("Data source 'west'", status.Stdout);
    }

    private Task AuthAsync(string source) => _emulators[source].AuthAsSourceAsync(Config, source, "sqlite:" + source + ".db");

    private Uri ServiceUrl(Uri listener, string source) =>
        new(listener, "hooks/" + JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, ".desksync", "secrets", source + ".service-token.json"))).RootElement.GetProperty("Token").GetString());

    private static async Task<bool> StreamingAsync(HttpClient http, Uri admin, string source)
    {
        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(admin, "healthz/" + source)));
        return health.RootElement.GetProperty("streaming").GetBoolean();
    }

    private static void Hangup(RunningDeskSync run)
    {
        using var kill = Process.Start("kill", ["-HUP", run.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
