using System.Globalization;
using DeskSync.Cli;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>
/// Every command given bad input, as a user would type it: a clear error that says what was
/// wrong and what is accepted, the documented exit code, and never a stack trace.
/// </summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class BadInputProcessTests() : EmulatorProcessTest(["--tickets", "10"], connect: true)
{
    public static TheoryData<string, int, string> Cases => new()
    {
        { "sync --target sqlit:x.db", ExitCodes.Configuration, "Unknown target 'sqlit:'" },
        { "sync --target jsonl:", ExitCodes.Configuration, "names no folder" },
        { "sync --target sqlite:", ExitCodes.Configuration, "names no file" },
        { "sync --target postgres:Host=127.0.0.1;Databse=zoho", ExitCodes.Configuration, "connection string is not valid" },
        { "sync --target postgres:", ExitCodes.Configuration, "has no connection string" },
        { "sync --mode flatt", ExitCodes.Configuration, "Unknown mode 'flatt'" },
        { "sync --tables tickts", ExitCodes.Configuration, "Unknown table 'tickts'" },
        { "sync --mode document --no-raw", ExitCodes.Configuration, "flat mode only" },
        { "poll --target sqlit:x.db", ExitCodes.Configuration, "Unknown target" },
        { "run --listen notaurl", ExitCodes.Configuration, "is not an http(s) URL" },
        { "run --listen http://example.com:80", ExitCodes.Configuration, "names a host" },
        { "run --poll-interval 5x --incremental polling", ExitCodes.Configuration, "--poll-interval" },
        { "run --deletes maybe", ExitCodes.Configuration, "Unknown delete mode 'maybe'" },
        { "run --incremental sometimes", ExitCodes.Configuration, "Unknown incremental mode" },
        { "run --reconcile-after-downtime soon", ExitCodes.Configuration, "--reconcile-after-downtime" },
        { "journal rebaseline --target csv:", ExitCodes.Configuration, "names no folder" },
        { "status --target sqlit:x.db", ExitCodes.Configuration, "Unknown target" },
        { "discover --tables nope", ExitCodes.Configuration, "Unknown table 'nope'" },
        { "webhook register", ExitCodes.Configuration, "--public-url" },
        { "check --source nosuch", ExitCodes.Configuration, "nosuch" },
        { "emulator --port 70000", ExitCodes.Configuration, "is not a port" },
        { "emulator --bind localhostt", ExitCodes.Configuration, "is not an IP address" },
        { "emulator --edition GOLD", ExitCodes.Configuration, "is not an edition" },
        { "sync --config missing-folder/none.json", ExitCodes.Configuration, "No data source" },
        { "sync --bogus", ExitCodes.Configuration, "Unrecognized command or argument '--bogus'" },
        { "webhook delete", ExitCodes.Configuration, "desksync webhook delete --help" },
        { "webhook url", ExitCodes.Configuration, "--public-url" },
        { "auth --org-id abc --client-id x --grant-code y", ExitCodes.Configuration, "numeric org ID" },
        { "init --non-interactive", ExitCodes.Configuration, "--client-id is required" },
        { "status --log xml", ExitCodes.Configuration, "--log 'xml' is not a format" },
        { "demo --tickets -1", ExitCodes.Configuration, "is not a portal size" },
        { "webhook list --source nosuch", ExitCodes.Configuration, "nosuch" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_a_clear_error_the_documented_exit_code_and_no_stack_trace(string command, int exitCode, string message)
    {
        var args = command.Split(' ').ToList();
        if (!args.Contains("--config") && args[0] is not ("emulator" or "demo"))
        {
            args.AddRange(["--config", Config]);
        }

        var result = await DeskSyncProcess.RunAsync(Dir, null, [.. args]);

        Assert.True(result.ExitCode == exitCode, $"{command}: exit {result.ExitCode.ToString(CultureInfo.InvariantCulture)}\n{result.Stderr}");
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error:", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_is_named_with_what_to_do()
    {
        var port = new Uri(Emulator.Url).Port;
        var result = await DeskSyncProcess.RunAsync(Dir, null, ["emulator", "--port", port.ToString(CultureInfo.InvariantCulture)]);

        Assert.Equal(ExitCodes.Configuration, result.ExitCode);
        Assert.Contains($"Port {port.ToString(CultureInfo.InvariantCulture)} on 127.0.0.1 is in use", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
