using System.Diagnostics;
using System.Text;

namespace DeskSync.Tests.Support;

/// <summary>Runs the real `desksync` program (built beside the tests) as a child process.</summary>
internal static class DeskSyncProcess
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "desksync.dll");

    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // Nothing from the developer's environment may steer the child.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("DESKSYNC_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        return info;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, IDictionary<string, string>? env, params string[] args)
    {
        var info = StartInfo(workingDirectory, args);
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
