using System.Text;
using System.Text.Json;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Cli;

/// <summary>README's five-minute tour, command by command, as a newcomer types it (ports aside: the test binds port 0).</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class ReadmeTourTests(PostgresServer postgres) : EmulatorProcessTest(["--tickets", "300"], connect: false), IClassFixture<PostgresServer>
{
    [Fact]
    public async Task The_tour_works_as_written()
    {
        var url = Emulator.Url;
        var secret = new Dictionary<string, string> { ["DESKSYNC_CLIENT_SECRET"] = Emulator.Value("clientSecret") };
        await Ok(secret, "auth", "--accounts-url", url, "--api-url", url, "--org-id", Emulator.Value("orgId"), "--client-id", Emulator.Value("clientId"), "--grant-code", Emulator.Value("grantCode"));
        Assert.Contains("Tickets", (await Ok(null, "check")).Stdout, StringComparison.Ordinal);
        Assert.Contains("tickets", (await Ok(null, "discover")).Stdout, StringComparison.Ordinal);
        await Ok(null, "sync");
        Assert.Equal(300L, await ScalarAsync("SELECT COUNT(*) FROM tickets"));
        var schema = PostgresServer.NewSchema();
        await Ok(null, "sync", "--target", "postgres:" + postgres.ConnectionString, "--schema", schema, "--mode", "document");

        // Real time: run, then register the webhook; a change in Zoho arrives in desksync.db.
        await using var run = RunningDeskSync.Start(Dir, "run", "--listen", "http://127.0.0.1:0");
        await run.WaitForLineAsync("catch-up:", "run to start");
        var address = run.Address.TrimEnd('/');
        await Ok(null, "webhook", "register", "--public-url", address);
        var printed = (await Ok(null, "webhook", "url")).Stdout.Trim(); // the public URL was kept
        Assert.StartsWith(address + "/hooks/", printed, StringComparison.Ordinal);

        var id = (string)(await ScalarAsync("SELECT id FROM tickets WHERE status <> 'Closed' LIMIT 1"))!;
        using var http = new HttpClient();
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"{url}/_emulator/records/tickets/{id}") { Content = new StringContent("""{"status":"Closed"}""", Encoding.UTF8, "application/json") };
        using (var response = await http.SendAsync(patch))
        {
            Assert.True(response.IsSuccessStatusCode);
            Assert.Equal("Closed", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("statusType").GetString());
        }

        await run.WaitForAsync(() => ScalarAsync($"SELECT status FROM tickets WHERE id = '{id}'").GetAwaiter().GetResult() as string == "Closed", "the change in desksync.db");
    }

    private async Task<(string Stdout, string Stderr)> Ok(IDictionary<string, string>? env, params string[] args)
    {
        var result = await DeskSyncProcess.RunAsync(Dir, env, args);
        Assert.True(result.ExitCode == 0, $"desksync {string.Join(' ', args)}: exit {result.ExitCode}\n{result.Stderr}");
        return (result.Stdout, result.Stderr);
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(Dir, "desksync.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
