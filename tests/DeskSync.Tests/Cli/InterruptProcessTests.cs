using System.Diagnostics;
using DeskSync.Cli;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>Ctrl+C (SIGINT) stops every long command with exit code 130 and says how to continue.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class InterruptProcessTests() : EmulatorProcessTest(["--tickets", "5000", "--latency-ms", "2000"], connect: true)
{
    [Theory]
    [InlineData("sync", "table_started")]
    [InlineData("run", "Receiving webhooks on")]
    public async Task Ctrl_C_exits_130_and_says_the_same_command_continues(string command, string started)
    {
        string[] args = command == "run"
            ? ["run", "--config", Config, "--tables", "tickets", "--listen", "http://127.0.0.1:0", "--target", "sqlite:" + Path.Combine(Dir, "t.db")]
            : ["sync", "--config", Config, "--tables", "tickets", "--quiet", "--log", "json", "--target", "sqlite:" + Path.Combine(Dir, "t.db")];
        await using var process = RunningDeskSync.StartAsFromTerminal(Dir, args);
        await process.WaitForAsync(() => process.Lines.Any(l => l.Contains(started, StringComparison.Ordinal)), "it to start");

        // How the child handles signals as it is sent SIGINT (ignored, blocked, caught), for a failure to say.
        var signals = string.Join("; ", File.ReadLines($"/proc/{process.Process.Id}/status").Where(l => l.StartsWith("Sig", StringComparison.Ordinal)));
        using (var kill = Process.Start("kill", ["-INT", process.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }

        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60), "signals when sent SIGINT: " + signals);
        Assert.True(exitCode == ExitCodes.Interrupted, $"exit {exitCode} (signals when sent SIGINT: {signals}): {process.Said}");
        Assert.True(process.Lines.Any(l => l.Contains("run the same command again to continue", StringComparison.Ordinal)), "no word on how to continue: " + process.Said);
        Assert.DoesNotContain(process.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
    }
}
