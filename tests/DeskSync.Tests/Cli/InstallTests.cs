using System.Diagnostics;
using System.Text.RegularExpressions;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>
/// The install paths README gives, from this checkout: `dotnet pack` (of the build the tests already
/// made, so that it costs no second compile) and `dotnet tool install` make a working `desksync` tool; scripts/publish.sh makes a self-contained binary that runs; the
/// service unit in docs/operations.md, pointed at that binary, passes `systemd-analyze verify`.
/// </summary>
[Trait(Lanes.Key, Lanes.Process)]
[RunsLong]
public sealed partial class InstallTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-install-").FullName;

    private static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built in (and with them the CLI they reference).</summary>
    private static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Packed_and_installed_as_a_dotnet_tool_desksync_runs()
    {
        var pack = await RunAsync("dotnet", Root, "pack", "src/DeskSync.Cli", "--no-build", "-c", Configuration, "-o", Path.Combine(_dir, "pkg"), "--nologo", "-v", "quiet");
        Assert.True(pack.ExitCode == 0, pack.Output);
        var install = await RunAsync("dotnet", _dir, "tool", "install", "--tool-path", Path.Combine(_dir, "tools"), "--add-source", Path.Combine(_dir, "pkg"), "DeskSync");
        Assert.True(install.ExitCode == 0, install.Output);

        var help = await RunAsync(Path.Combine(_dir, "tools", "desksync"), _dir, "--help");
        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Contains("journal", help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Published_as_a_single_file_binary_desksync_runs_and_the_documented_service_unit_verifies()
    {
        var publish = await RunAsync("bash", Root, ["scripts/publish.sh", "linux-x64"], new Dictionary<string, string> { ["DIST"] = _dir });
        Assert.True(publish.ExitCode == 0, publish.Output);
        var binary = Path.Combine(_dir, "desksync-linux-x64", "desksync");
        Assert.Equal(["desksync"], Directory.GetFiles(Path.GetDirectoryName(binary)!).Select(Path.GetFileName));

        var help = await RunAsync(binary, _dir, "--help");
        Assert.True(help.ExitCode == 0, help.Output);

        if (!File.Exists("/usr/bin/systemd-analyze"))
        {
            return; // the unit is checked where the tool exists (CI's machine has it)
        }

        var unit = UnitBlock().Match(await File.ReadAllTextAsync(Path.Combine(Root, "docs", "operations.md"))).Groups[1].Value;
        Assert.Contains("ExecStart=/usr/local/bin/desksync run", unit, StringComparison.Ordinal);
        var path = Path.Combine(_dir, "desksync.service");
        await File.WriteAllTextAsync(path, unit.Replace("/usr/local/bin/desksync", binary, StringComparison.Ordinal));
        var verify = await RunAsync("systemd-analyze", _dir, "verify", path);
        Assert.True(verify.ExitCode == 0 && verify.Output.Trim().Length == 0, "systemd-analyze verify: " + verify.Output);
    }

    [GeneratedRegex("```ini\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex UnitBlock();

    private static Task<(int ExitCode, string Output)> RunAsync(string file, string directory, params string[] args) => RunAsync(file, directory, args, null);

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string directory, string[] args, IDictionary<string, string>? env)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DeskSync.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The checkout's root (DeskSync.sln) was not found above the test binaries.");
    }
}
