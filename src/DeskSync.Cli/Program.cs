using System.CommandLine;
using DeskSync.Cli;
using DeskSync.Cli.Commands;

var global = new GlobalOptions();
var root = new RootCommand("DeskSync: replicate Zoho Desk into databases.")
{
    global.Config,
    global.Source,
    global.Log,
};
root.Subcommands.Add(InitCommand.Build(global));
root.Subcommands.Add(AuthCommand.Build(global));
root.Subcommands.Add(CheckCommand.Build(global));
root.Subcommands.Add(DiscoverCommand.Build(global));
root.Subcommands.Add(SyncCommand.Build(global));
root.Subcommands.Add(RunCommand.Build(global));
root.Subcommands.Add(PollCommand.Build(global));
root.Subcommands.Add(StatusCommand.Build(global));
root.Subcommands.Add(WebhookCommand.Build(global));
root.Subcommands.Add(JournalCommand.Build(global));
root.Subcommands.Add(EmulatorCommand.Build());
root.Subcommands.Add(DemoCommand.Build());
var parsed = root.Parse(args);
OutputLog.Json = string.Equals(parsed.GetValue(global.Log), "json", StringComparison.OrdinalIgnoreCase);
return await parsed.InvokeAsync();
