using System.Text.Json.Nodes;
using DeskSync.Cli;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>`desksync` as a user runs it: separate processes, the emulator over loopback.</summary>
[Trait(Lanes.Key, Lanes.Process)]
[RunsLong]
public sealed class CliProcessTests : IAsyncLifetime
{
    private EmulatorProcess _emulator = null!;
    private JsonObject _details = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("desksync-cli-").FullName;
        _emulator = await EmulatorProcess.StartAsync(_dir, "--tickets", "123");
        _details = _emulator.Details;
    }

    public async Task DisposeAsync()
    {
        await _emulator.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Emulator_prints_what_an_admin_copies_then_auth_and_check_reach_the_portal()
    {
        foreach (var key in new[] { "orgId", "clientId", "clientSecret", "grantCode", "url" })
        {
            Assert.False(string.IsNullOrEmpty(_details[key]?.GetValue<string>()), key);
        }

        Assert.StartsWith("http://127.0.0.1:", _details["url"]!.GetValue<string>(), StringComparison.Ordinal);

        var auth = await Auth(_details["grantCode"]!.GetValue<string>());
        Assert.True(auth.ExitCode == 0, auth.Stderr);
        Assert.Contains("Acme Support Ltd.", auth.Stdout, StringComparison.Ordinal);

        var check = await DeskSyncProcess.RunAsync(_dir, null, "check", "--config", Config);
        Assert.True(check.ExitCode == 0, check.Stderr);
        Assert.Contains("Tickets:  123", check.Stdout, StringComparison.Ordinal);
        Assert.Contains(_details["orgId"]!.GetValue<string>(), check.Stdout, StringComparison.Ordinal);
        Assert.Contains("Answers:  none of 2 came compressed", check.Stdout, StringComparison.Ordinal);

        var secrets = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, ".desksync", "secrets", "default.json")))!;
        var secretValues = new[] { _details["clientSecret"]!.GetValue<string>(), secrets["refreshToken"]!.GetValue<string>(), secrets["accessToken"]!.GetValue<string>(), _details["grantCode"]!.GetValue<string>() };
        foreach (var output in new[] { auth.Stdout, auth.Stderr, check.Stdout, check.Stderr, await File.ReadAllTextAsync(Config) })
        {
            foreach (var secret in secretValues)
            {
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_used_grant_code_exits_with_the_authentication_code_and_says_what_to_do()
    {
        var code = _details["grantCode"]!.GetValue<string>();
        Assert.Equal(0, (await Auth(code)).ExitCode);

        var again = await Auth(code);

        Assert.Equal(ExitCodes.Authentication, again.ExitCode);
        Assert.Contains("Generate a new one", again.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(code, again.Stderr + again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_secret_exits_with_the_authentication_code()
    {
        var result = await Auth(_details["grantCode"]!.GetValue<string>(), secret: "wrong-secret-value");

        Assert.Equal(ExitCodes.Authentication, result.ExitCode);
        Assert.Contains("client secret does not match", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_org_id_is_a_configuration_error_that_costs_no_new_grant_code()
    {
        var result = await Auth(_details["grantCode"]!.GetValue<string>(), orgId: "424242");

        Assert.Equal(ExitCodes.Configuration, result.ExitCode);
        Assert.Contains("424242", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(_details["orgId"]!.GetValue<string>(), result.Stderr, StringComparison.Ordinal);
        Assert.Contains("no new grant code needed", result.Stderr, StringComparison.Ordinal);

        // The grant code is spent, but the connection was kept: the org ID is corrected without one.
        var corrected = await DeskSyncProcess.RunAsync(_dir, null, "auth", "--org-id", _details["orgId"]!.GetValue<string>());
        Assert.True(corrected.ExitCode == 0, corrected.Stderr);
        var check = await DeskSyncProcess.RunAsync(_dir, null, "check");
        Assert.True(check.ExitCode == 0, check.Stderr);
    }

    [Fact]
    public async Task An_unreachable_Desk_API_says_each_retry_as_it_happens_and_what_to_check()
    {
        Assert.Equal(0, (await Auth(_details["grantCode"]!.GetValue<string>())).ExitCode);
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Config))!;
        settings["sources"]!["default"]!["apiUrl"] = "http://127.0.0.1:9"; // nothing listens there
        await File.WriteAllTextAsync(Config, settings.ToJsonString());

        var result = await DeskSyncProcess.RunAsync(_dir, null, "check", "--config", Config);

        Assert.Equal(ExitCodes.Transient, result.ExitCode);
        Assert.Contains("try 2 of 7", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("try 7 of 7", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Check the network", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_accounts_server_is_a_transient_error()
    {
        var result = await Auth(_details["grantCode"]!.GetValue<string>(), url: "http://127.0.0.1:9");

        Assert.Equal(ExitCodes.Transient, result.ExitCode);
        Assert.Contains("Could not reach Zoho Accounts", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_config_is_a_configuration_error()
    {
        await File.WriteAllTextAsync(Config, "{ not json");

        var result = await DeskSyncProcess.RunAsync(_dir, null, "check", "--config", Config);

        Assert.Equal(ExitCodes.Configuration, result.ExitCode);
        Assert.Contains("not valid JSON", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_without_a_connection_says_to_run_auth()
    {
        var result = await DeskSyncProcess.RunAsync(_dir, null, "check", "--config", Config);

        Assert.Equal(ExitCodes.Configuration, result.ExitCode);
        Assert.Contains("desksync auth", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("auth", "--grant-code")]
    [InlineData("check", "--config")]
    [InlineData("emulator", "--port")]
    [InlineData("demo", "--dir")]
    public async Task Every_command_has_help(string command, string option)
    {
        var result = await DeskSyncProcess.RunAsync(_dir, null, command, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_and_sync_say_whether_Zoho_compressed_its_answers()
    {
        // Whether Zoho compresses is unknown: against a real portal, check and sync tell.
        var dir = Directory.CreateTempSubdirectory("desksync-cli-gzip-").FullName;
        try
        {
            await using var gzip = await EmulatorProcess.StartAsync(dir, "--tickets", "150", "--gzip");
            var auth = await gzip.AuthAsync();
            Assert.True(auth.ExitCode == 0, auth.Stderr);
            var config = Path.Combine(dir, "desksync.json");

            var check = await DeskSyncProcess.RunAsync(dir, null, "check", "--config", config);
            Assert.True(check.ExitCode == 0, check.Stderr);
            Assert.Contains("Answers:  2 of 2 came compressed", check.Stdout, StringComparison.Ordinal);

            var sync = await DeskSyncProcess.RunAsync(dir, null, "sync", "--config", config, "--quiet", "--tables", "tickets", "--target", "sqlite:" + Path.Combine(dir, "t.db"));
            Assert.True(sync.ExitCode == 0, sync.Stderr);
            Assert.Matches(@"Answers: [0-9]+ of [0-9]+ came compressed \([0-9,]+ KB once inflated\)", sync.Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private string Config => Path.Combine(_dir, "desksync.json");

    private Task<(int ExitCode, string Stdout, string Stderr)> Auth(string code, string? secret = null, string? orgId = null, string? url = null) =>
        _emulator.AuthAsync(code, secret, orgId, url);
}
