using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace DeskSync.Tests.Support;

/// <summary>A long-running `desksync` process (usually `run`) whose stderr lines are collected, with waits on what it says.</summary>
internal sealed partial class RunningDeskSync : IAsyncDisposable
{
    private readonly Task _reader;
    private readonly Task<string> _stdout;

    private RunningDeskSync(Process process)
    {
        Process = process;
        _stdout = process.StandardOutput.ReadToEndAsync(); // drained, so that a full pipe never blocks the process
        _reader = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                Lines.Enqueue(line);
            }
        });
    }

    public Process Process { get; }

    public ConcurrentQueue<string> Lines { get; } = new();

    public string Said => string.Join('\n', Lines);

    /// <summary>The public address `run` printed ("Receiving webhooks on …"), with its trailing slash.</summary>
    public string Address => AddressLine().Match(Said).Groups[1].Value;

    /// <summary>Where /healthz and /metrics answer ("Health and metrics on …"), with its trailing slash.</summary>
    public string AdminAddress => AdminLine().Match(Said).Groups[1].Value;

    public static RunningDeskSync Start(string directory, params string[] args) => new(Process.Start(DeskSyncProcess.StartInfo(directory, args))!);

    /// <summary>
    /// As from a terminal: SIGINT and SIGHUP handled by default, whatever the test run inherited. A
    /// test run started in the background by a shell without job control ignores SIGINT (under
    /// nohup, SIGHUP too), its children inherit that, and .NET keeps an ignored signal ignored —
    /// Ctrl+C or a reload could then not be tested.
    /// </summary>
    public static RunningDeskSync StartAsFromTerminal(string directory, params string[] args)
    {
        var info = DeskSyncProcess.StartInfo(directory, args);
        info.ArgumentList.Insert(0, info.FileName);
        info.ArgumentList.Insert(0, "--default-signal=INT,HUP");
        info.FileName = "env";
        return new(Process.Start(info)!);
    }

    public Task WaitForLineAsync(string start, string what) => WaitForAsync(() => Lines.Any(l => l.StartsWith(start, StringComparison.Ordinal)), what);

    /// <summary>Until the condition holds; a failure says what the process said.</summary>
    public Task WaitForAsync(Func<bool> condition, string what) => Eventually.UntilAsync(condition, what, () => "the process said:\n" + Said);

    /// <summary>Waits for the process to end by itself and for its output to be read.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, string? context = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill();
            Assert.Fail($"still running after {timeout}{(context is null ? "" : " (" + context + ")")}: {Said}");
        }

        await _reader;
        await _stdout;
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(); // SIGKILL
        }

        await Process.WaitForExitAsync();
        Process.Dispose();
    }

    [GeneratedRegex(@"Receiving webhooks on (http://\S+/)")]
    private static partial Regex AddressLine();

    [GeneratedRegex(@"Health and metrics on (http://\S+/)healthz")]
    private static partial Regex AdminLine();
}
