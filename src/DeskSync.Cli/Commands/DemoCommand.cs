using System.CommandLine;
using DeskSync.Cli.Config;
using DeskSync.Emulator;

namespace DeskSync.Cli.Commands;

/// <summary>
/// `desksync demo`: DeskSync end to end against an in-process emulator, in a folder of its own.
/// Today: connect (grant code → refresh token) and check the portal; it grows with each capability.
/// </summary>
internal static class DemoCommand
{
    public static Command Build()
    {
        var folder = new Option<string>("--dir") { Description = "Folder for the demo's settings and data.", DefaultValueFactory = _ => "desksync-demo" };
        var tickets = new Option<int>("--tickets") { Description = "Tickets in the sample portal.", DefaultValueFactory = _ => 250 };
        var command = new Command("demo", "Try DeskSync offline: start a Zoho Desk emulator, connect to it, load every table into SQLite and watch three changes arrive by webhook.") { folder, tickets };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            if (parse.GetValue(tickets) is < 0 or > 2_000_000)
            {
                throw new Config.ConfigException($"--tickets {parse.GetValue(tickets)} is not a portal size: give 0 to 2,000,000.");
            }

            var dir = Path.GetFullPath(parse.GetValue(folder)!);
            Directory.CreateDirectory(dir);
            await using var emulator = await ZohoDeskEmulator.StartAsync(new EmulatorOptions { Counts = new TableCounts { Tickets = parse.GetValue(tickets) } }, cancellationToken: ct);
            var url = emulator.BaseUrl.ToString();
            Console.WriteLine($"1. Started a Zoho Desk emulator at {url} (org {emulator.Portal.OrgId}, {emulator.Portal.Count("tickets")} tickets).");

            var code = emulator.MintGrantCode();
            Console.WriteLine("2. Minted a Self Client grant code (as API console → Self Client → Generate Code does) and exchanged it:");
            var configPath = Path.Combine(dir, DeskSyncConfig.DefaultPath);
            var source = new DataSourceConfig { OrgId = emulator.Portal.OrgId, ClientId = emulator.Client.ClientId, AccountsUrl = url, ApiUrl = url };
            var config = new DeskSyncConfig();
            await AuthCommand.ConnectAsync(configPath, "default", config, source, emulator.Client.ClientSecret, code.Code, Indented(), ct);

            Console.WriteLine("3. Checked the data source with its stored refresh token:");
            await CheckCommand.RunAsync(configPath, "default", Indented(), ct);

            Console.WriteLine("4. Full load of every table into SQLite (flat mode: a typed column per field, custom fields included):");
            var dbPath = Path.Combine(dir, "desksync.db");
            var code2 = await SyncCommand.RunAsync(configPath, "default", new SyncSettings("sqlite:" + dbPath, null, "flat", "all", Detail: false, FullRefresh: true), quiet: true, ct);
            if (code2 != ExitCodes.Success)
            {
                return code2;
            }

            Console.WriteLine("5. Real time: the receiver starts, a Zoho Desk webhook is registered to it, and live changes arrive:");
            await LiveChangesAsync(emulator, configPath, dbPath, ct);

            Console.WriteLine();
            Console.WriteLine($"The data is in {dbPath}. Try:");
            Console.WriteLine($"  sqlite3 {dbPath} \"SELECT status, COUNT(*) FROM tickets GROUP BY status;\"");
            Console.WriteLine($"  sqlite3 {dbPath} \"SELECT column_name, label FROM _desksync_columns WHERE table_name = 'tickets' AND is_custom_field;\"");
            Console.WriteLine($"  sqlite3 {dbPath} \"SELECT ticket_number, cf_customer_refund_if_any, json_extract(_raw, '$.assignee.emailId') FROM tickets LIMIT 5;\"");
            Console.WriteLine($"  sqlite3 {dbPath} \"SELECT t.ticket_number, th.direction, th.created_time, substr(th.content, 1, 60) FROM tickets t JOIN ticket_threads th ON th.ticket_id = t.id ORDER BY t.ticket_number, th.created_time LIMIT 8;\"");
            Console.WriteLine($"Settings: {configPath}. The emulator stopped with the demo; run your own with `desksync emulator` (see README.md).");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task LiveChangesAsync(ZohoDeskEmulator emulator, string configPath, string dbPath, CancellationToken ct)
    {
        using var context = await SourceContext.OpenAsync(configPath, "default", ct);
        await using var sink = new DeskSync.Sinks.Sqlite.SqliteSink(dbPath, DeskSync.Core.SinkMode.Flat);
        var token = DeskSync.ZohoDesk.Webhooks.ServiceUrlToken.New();
        await using var sync = new DeskSync.ZohoDesk.Sync.RealtimeSync(context.Connection.Client, sink, new DeskSync.ZohoDesk.Sync.RealtimeSyncOptions
        {
            Tables = DeskSync.ZohoDesk.Streams.DeskStreams.All,
            Server = new DeskSync.ZohoDesk.Webhooks.WebhookServerOptions { Listen = "http://127.0.0.1:0" },
            JournalDirectory = Path.Combine(Path.GetDirectoryName(configPath)!, ".desksync", "journal", "demo"),
            Token = token,
            OrgId = emulator.Portal.OrgId,
        });
        await sync.StartReceiverAsync(ct);
        var url = DeskSync.ZohoDesk.Webhooks.ServiceUrlToken.Url(sync.Server!.Address.ToString(), token);
        var hook = await DeskSync.ZohoDesk.Webhooks.WebhookRegistration.RegisterAsync(context.Connection.Client, url, DeskSync.ZohoDesk.Streams.DeskStreams.All, "DeskSync demo", ct);
        Console.WriteLine($"   Receiver on {sync.Server.Address}; webhook {hook.GetProperty("id")} registered (Zoho validated the URL).");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = sync.RunAsync(null, stop.Token);
        while (!sync.Streaming)
        {
            await Task.Delay(20, ct);
        }

        var ticket = emulator.Portal.List("tickets").First(t => t["status"]?.GetValue<string>() != "Closed")["id"]!.GetValue<string>();
        var contact = emulator.Portal.List("contacts")[0]["id"]!.GetValue<string>();
        Console.WriteLine($"   before: {await RowAsync(dbPath, $"SELECT status || ' / ' || subject FROM tickets WHERE id = '{ticket}'")}");
        var started = DateTime.UtcNow;
        emulator.Portal.Update("tickets", ticket, new System.Text.Json.Nodes.JsonObject { ["status"] = "Closed", ["subject"] = "Closed live by the demo" });
        var created = emulator.Portal.Create("tickets", new System.Text.Json.Nodes.JsonObject { ["subject"] = "Created live by the demo" })["id"]!.GetValue<string>();
        emulator.Portal.Delete("contacts", contact);
        await emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));
        var ms = (DateTime.UtcNow - started).TotalMilliseconds;
        Console.WriteLine($"   after:  {await RowAsync(dbPath, $"SELECT status || ' / ' || subject FROM tickets WHERE id = '{ticket}'")}");
        Console.WriteLine($"   new ticket {created}: {await RowAsync(dbPath, $"SELECT subject FROM tickets WHERE id = '{created}'")}");
        Console.WriteLine($"   deleted contact {contact}: {(await RowAsync(dbPath, $"SELECT COUNT(*) FROM contacts WHERE id = '{contact}'") == "0" ? "gone" : "still there")}");
        Console.WriteLine($"   three changes in Zoho reached the database in {ms:N0} ms.");
        await stop.CancelAsync();
        await run;
    }

    private static async Task<string> RowAsync(string dbPath, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dbPath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (await command.ExecuteScalarAsync())?.ToString() ?? "(none)";
    }

    private static TextWriter Indented() => new IndentingWriter(Console.Out, "   ");

    private sealed class IndentingWriter(TextWriter inner, string prefix) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value) => inner.WriteLine(prefix + value);

        public override Task WriteLineAsync(string? value) => inner.WriteLineAsync(prefix + value);
    }
}
