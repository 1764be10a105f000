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
        var command = new Command("demo", "Try DeskSync offline: start a Zoho Desk emulator, connect to it and check the portal.") { folder, tickets };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
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

            Console.WriteLine();
            Console.WriteLine($"The demo's settings are in {configPath}; the emulator stopped with the demo.");
            Console.WriteLine("Run your own emulator with `desksync emulator` and connect to it with `desksync auth` (see README.md).");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static TextWriter Indented() => new IndentingWriter(Console.Out, "   ");

    private sealed class IndentingWriter(TextWriter inner, string prefix) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value) => inner.WriteLine(prefix + value);

        public override Task WriteLineAsync(string? value) => inner.WriteLineAsync(prefix + value);
    }
}
