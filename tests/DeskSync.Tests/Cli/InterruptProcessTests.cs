using System.Collections.Concurrent;
using System.Diagnostics;
using DeskSync.Cli;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>Ctrl+C (SIGINT) stops every long command with exit code 130 and says how to continue.</summary>
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
        var lines = new ConcurrentQueue<string>();
        var info = DeskSyncProcess.StartInfo(Dir, args);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var reader = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lines.Enqueue(line);
            }
        });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!lines.Any(l => l.Contains(started, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "it did not start: " + string.Join('\n', lines));
            await Task.Delay(20);
        }

        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail("still running a minute after Ctrl+C: " + string.Join('\n', lines));
        }

        await reader;
        Assert.True(process.ExitCode == ExitCodes.Interrupted, $"exit {process.ExitCode}: {string.Join('\n', lines)}");
        Assert.True(lines.Any(l => l.Contains("run the same command again to continue", StringComparison.Ordinal)), "no word on how to continue: " + string.Join('\n', lines) + "\nstdout: " + await stdout);
        Assert.DoesNotContain(lines, l => l.Contains("   at ", StringComparison.Ordinal));
    }
}
