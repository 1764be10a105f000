using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Cli;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>init, status, poll, webhook and demo as a user runs them, wrong inputs included.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class CliCommandsProcessTests() : EmulatorProcessTest(["--tickets", "150"], connect: false)
{
    [Fact]
    public async Task Init_answered_on_standard_input_connects_and_picks_the_only_portal()
    {
        var answers = $"1\n{Emulator.Value("clientId")}\n{Emulator.Value("clientSecret")}\n\n{Emulator.Value("grantCode")}\n";
        var (exitCode, stdout, stderr) = await InitAsync(answers);

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("Setup → Developer Space → API", stderr, StringComparison.Ordinal);
        Assert.Contains("Generate Code", stderr, StringComparison.Ordinal);
        Assert.Contains("Portal: " + Emulator.Value("orgId"), stderr, StringComparison.Ordinal);
        Assert.Contains("Connected data source 'default'", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Emulator.Value("clientSecret"), stdout + stderr, StringComparison.Ordinal);
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Config));
        Assert.Equal(Emulator.Value("orgId"), config.RootElement.GetProperty("sources").GetProperty("default").GetProperty("orgId").GetString());
    }

    [Fact]
    public async Task Init_asks_again_only_the_step_that_failed_a_spent_grant_code_then_a_wrong_org_id()
    {
        using var http = new HttpClient();
        using var minted = await http.PostAsync(Emulator.Url + "/_emulator/grant-codes", null);
        var fresh = JsonNode.Parse(await minted.Content.ReadAsStringAsync())!["code"]!.GetValue<string>();
        // Data centre, client ID, secret, a wrong org ID, a spent grant code; then a new code; then the org ID again.
        var answers = $"1\n{Emulator.Value("clientId")}\n{Emulator.Value("clientSecret")}\n424242\n1000.spent.code\n{fresh}\n{Emulator.Value("orgId")}\n";
        var (exitCode, stdout, stderr) = await InitAsync(answers);

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("not among the portals", stderr, StringComparison.Ordinal);
        int Asked(string question) => stderr.Split(question + ": ").Length - 1;
        Assert.Equal((1, 1, 2, 2), (Asked("Client ID"), Asked("Client secret"), Asked("Grant code"), Asked("Org ID (Enter to choose from your portals)"))); // only the failing steps again
        Assert.Contains("Connected data source 'default'", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_without_answers_in_non_interactive_mode_says_what_is_missing()
    {
        var result = await DeskSyncProcess.RunAsync(Dir, null, "init", "--config", Config, "--non-interactive", "--client-id", Emulator.Value("clientId"));

        Assert.Equal(ExitCodes.Configuration, result.ExitCode);
        Assert.Contains("DESKSYNC_CLIENT_SECRET", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_poll_and_webhook_commands_work_on_a_connected_source_and_log_as_json_when_asked()
    {
        Assert.Equal(0, (await Emulator.AuthAsync()).ExitCode);
        var db = "sqlite:" + Path.Combine(Dir, "cmd.db");

        var before = await DeskSyncProcess.RunAsync(Dir, null, "status", "--config", Config, "--target", db);
        Assert.True(before.ExitCode == 0, before.Stderr);
        Assert.Contains("tickets              full load not started", before.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Dir, "cmd.db")), "status only reads: it creates no target");

        var noLoad = await DeskSyncProcess.RunAsync(Dir, null, "poll", "--config", Config, "--target", db, "--tables", "tickets");
        Assert.Contains("run `desksync sync` first", noLoad.Stdout + noLoad.Stderr, StringComparison.Ordinal);

        var sync = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--target", db, "--log", "json");
        Assert.True(sync.ExitCode == 0, sync.Stderr);
        var events = sync.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "table_finished" && e.GetProperty("table").GetString() == "tickets" && e.GetProperty("rows").GetInt64() == 150);

        var poll = await DeskSyncProcess.RunAsync(Dir, null, "poll", "--config", Config, "--target", db, "--reconcile");
        Assert.True(poll.ExitCode == 0, poll.Stderr);
        Assert.Contains("tickets: 150 in Zoho, 0 deleted", poll.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"organization_fields: [\d,]+ rows read, [1-9]\d* calls", poll.Stdout); // the field-definition reads are counted

        var after = await DeskSyncProcess.RunAsync(Dir, null, "status", "--config", Config, "--target", db, "--json");
        using (var status = JsonDocument.Parse(after.Stdout))
        {
            var tickets = status.RootElement.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == "tickets");
            Assert.Equal("complete", tickets.GetProperty("fullLoad").GetString());
            Assert.NotEqual(JsonValueKind.Null, tickets.GetProperty("polledUpTo").ValueKind);
        }

        var noPublic = await DeskSyncProcess.RunAsync(Dir, null, "webhook", "url", "--config", Config);
        Assert.Equal(ExitCodes.Configuration, noPublic.ExitCode);
        var url = await DeskSyncProcess.RunAsync(Dir, null, "webhook", "url", "--config", Config, "--public-url", "https://sync.example.com");
        Assert.Matches("^https://sync\\.example\\.com/hooks/[A-Za-z0-9_-]{32}$", url.Stdout.Trim());

        // Zoho validates the URL: nothing listens there, so registration is refused with Zoho's reason.
        var refused = await DeskSyncProcess.RunAsync(Dir, null, "webhook", "register", "--config", Config, "--public-url", "http://127.0.0.1:9");
        Assert.Equal(ExitCodes.Configuration, refused.ExitCode);
        Assert.Contains("validation", refused.Stderr, StringComparison.Ordinal);
        var list = await DeskSyncProcess.RunAsync(Dir, null, "webhook", "list", "--config", Config);
        Assert.Equal(0, list.ExitCode);
        Assert.Equal("", list.Stdout.Trim());
    }

    [Fact]
    public async Task The_demo_runs_end_to_end_on_a_fresh_folder()
    {
        var result = await DeskSyncProcess.RunAsync(Dir, null, "demo", "--dir", Path.Combine(Dir, "demo"), "--tickets", "80");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("three changes in Zoho reached the database", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("deleted contact", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(": gone", result.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Dir, "demo", "desksync.db")));
    }

    /// <summary>`desksync init` against the emulator, answered on standard input.</summary>
    private async Task<(int ExitCode, string Stdout, string Stderr)> InitAsync(string answers)
    {
        var info = DeskSyncProcess.StartInfo(Dir, "init", "--config", Config, "--accounts-url", Emulator.Url, "--api-url", Emulator.Url);
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(answers);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
