using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeskSync.Cli;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Cli;

/// <summary>`desksync discover` and `desksync sync` as processes, including a SIGKILL mid-load.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed partial class CliSyncProcessTests() : EmulatorProcessTest(["--tickets", "12000", "--latency-ms", "150"], connect: true)
{
    [Fact]
    public async Task Discover_lists_tables_keys_and_the_portals_custom_fields()
    {
        var result = await DeskSyncProcess.RunAsync(Dir, null, "discover", "--config", Config, "--json", "--tables", "tickets,contracts");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var catalog = JsonNode.Parse(result.Stdout)!.AsArray();
        Assert.Equal(["tickets", "contracts"], catalog.Select(t => t!["name"]!.GetValue<string>()).Order().Reverse());
        var tickets = catalog.Single(t => t!["name"]!.GetValue<string>() == "tickets")!;
        Assert.Equal("id", tickets["primaryKey"]![0]!.GetValue<string>());
        Assert.Equal("modified_time", tickets["cursorField"]!.GetValue<string>());
        var refund = tickets["columns"]!.AsArray().Single(c => c!["label"]?.GetValue<string>() == "Customer refund, IF ANY?")!;
        Assert.Equal("cf_customer_refund_if_any", refund["name"]!.GetValue<string>());
        Assert.Equal("text", refund["type"]!.GetValue<string>());
        Assert.Contains(tickets["columns"]!.AsArray(), c => c!["label"]?.GetValue<string>() == "日期 1" && c["type"]!.GetValue<string>() == "date");
    }

    [Fact]
    public async Task Sync_killed_with_SIGKILL_midway_resumes_to_exactly_the_portals_rows_with_fewer_calls()
    {
        var db = Path.Combine(Dir, "killed.db");
        var info = DeskSyncProcess.StartInfo(Dir, "sync", "--config", Config, "--tables", "tickets", "--target", "sqlite:" + db, "--quiet");
        using (var sync = Process.Start(info)!)
        {
            var rows = 0L;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (rows < 1_500 && DateTime.UtcNow < deadline && !sync.HasExited)
            {
                await Task.Delay(50);
                rows = await CountAsync(db);
            }

            Assert.False(sync.HasExited, "the load finished before it could be killed");
            sync.Kill(); // SIGKILL
            await sync.WaitForExitAsync();
        }

        var partial = await CountAsync(db);
        Assert.InRange(partial, 1_500, 11_999);

        var resumed = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "tickets", "--target", "sqlite:" + db, "--quiet");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(12_000, await CountAsync(db));

        var fresh = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "tickets", "--target", "sqlite:" + Path.Combine(Dir, "fresh.db"), "--quiet");
        Assert.True(fresh.ExitCode == 0, fresh.Stderr);
        Assert.True(Calls(resumed.Stderr) < Calls(fresh.Stderr), $"resumed: {resumed.Stderr}\nfresh: {fresh.Stderr}");

        var again = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "tickets", "--target", "sqlite:" + db, "--quiet");
        Assert.Contains("tickets: already loaded", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("tickets: updated, 0 rows", again.Stderr, StringComparison.Ordinal); // the poll path: nothing changed since the load
    }

    [Fact]
    public async Task An_unreachable_target_exits_with_the_target_code()
    {
        var result = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "departments", "--target", "postgres:Host=127.0.0.1;Port=9;Username=x;Password=s3cret-pw;Timeout=2", "--quiet");

        Assert.Equal(ExitCodes.Target, result.ExitCode);
        Assert.Contains("Cannot connect to PostgreSQL 127.0.0.1:9", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_table_or_mode_is_a_configuration_error()
    {
        var table = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "tickets,invoices");
        var mode = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--mode", "wide");

        Assert.Equal(ExitCodes.Configuration, table.ExitCode);
        Assert.Contains("Unknown table 'invoices'", table.Stderr, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Configuration, mode.ExitCode);
    }

    [Fact]
    public async Task No_raw_loads_flat_tables_without_the_raw_column_and_is_refused_in_document_mode()
    {
        var db = Path.Combine(Dir, "noraw.db");
        var load = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "departments", "--target", "sqlite:" + db, "--no-raw", "--quiet");
        var document = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", Config, "--tables", "departments", "--target", "sqlite:" + Path.Combine(Dir, "doc.db"), "--mode", "document", "--no-raw");

        // The same from the settings file: "raw": false (beside the original, so that it shares its secrets).
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Config))!;
        settings["sources"]!["default"]!["raw"] = false;
        var noRawConfig = Path.Combine(Path.GetDirectoryName(Config)!, "noraw.json");
        await File.WriteAllTextAsync(noRawConfig, settings.ToJsonString());
        var fromSettings = Path.Combine(Dir, "noraw-settings.db");
        var configured = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", noRawConfig, "--tables", "departments", "--target", "sqlite:" + fromSettings, "--quiet");

        Assert.Equal(0, load.ExitCode);
        Assert.True(configured.ExitCode == 0, configured.Stderr);
        foreach (var path in new[] { db, fromSettings })
        {
            await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            var columns = await Support.TargetVerifier.ReadRowsAsync(connection, "SELECT name AS id FROM pragma_table_info('departments')");
            Assert.Contains("name", columns.Keys);
            Assert.DoesNotContain("_raw", columns.Keys);
        }

        Assert.Equal(ExitCodes.Configuration, document.ExitCode);
        Assert.Contains("flat mode only", document.Stderr, StringComparison.Ordinal);
    }

    private static long Calls(string stderr) => long.Parse(CallsPattern().Match(stderr).Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<long> CountAsync(string db)
    {
        if (!File.Exists(db))
        {
            return 0;
        }

        try
        {
            await using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM tickets";
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (SqliteException)
        {
            return 0; // the table does not exist yet
        }
    }

    [GeneratedRegex(@"tickets: loaded, [\d,]+ rows, ([\d,]+) calls")]
    private static partial Regex CallsPattern();
}
