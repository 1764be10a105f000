using System.CommandLine;
using System.Runtime.InteropServices;
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
if (parsed.Errors.Count > 0)
{
    // A mistyped command or option is a configuration error (2), said once, with where to look.
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine("error: " + error.Message);
    }

    var path = new List<string>();
    for (var result = parsed.CommandResult; result.Command != root && result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
    {
        path.Insert(0, result.Command.Name);
    }

    Console.Error.WriteLine($"`{string.Join(' ', ["desksync", .. path, "--help"])}` lists what is accepted.");
    return ExitCodes.Configuration;
}

if (parsed.GetValue(global.Log) is { } log && !log.Equals("text", StringComparison.OrdinalIgnoreCase) && !log.Equals("json", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"error: --log '{log}' is not a format: use text (the default) or json (one JSON object a line).");
    return ExitCodes.Configuration;
}

OutputLog.Json = string.Equals(parsed.GetValue(global.Log), "json", StringComparison.OrdinalIgnoreCase);
DeskSync.Core.Files.OwnerOnly.Warn = line => OutputLog.Warn("file_mode", line);
// The first Ctrl+C (or SIGTERM) cancels the command, which commits what it holds and says how to
// continue; a second one ends the process at once. The handlers are registered before anything
// runs, so no moment is left where a signal would end the process without a word.
using var interrupt = new CancellationTokenSource();
var signals = 0;
void OnSignal(PosixSignalContext context)
{
    if (Interlocked.Increment(ref signals) == 1)
    {
        context.Cancel = true;
        _ = Task.Run(interrupt.Cancel); // not on the signal thread: cancellation runs the command's own code
    }
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupt.Token);
