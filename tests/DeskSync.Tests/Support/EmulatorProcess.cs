using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DeskSync.Tests.Support;

/// <summary>`desksync emulator --json` as a child process, and a data source connected to it with `desksync auth`.</summary>
internal sealed class EmulatorProcess : IAsyncDisposable
{
    private readonly Process _process;

    private EmulatorProcess(Process process, JsonObject details, string dir)
    {
        _process = process;
        Details = details;
        Directory = dir;
    }

    public JsonObject Details { get; }

    public string Directory { get; }

    public string Config => Path.Combine(Directory, "desksync.json");

    public string Url => Details["url"]!.GetValue<string>();

    public string Value(string key) => Details[key]!.GetValue<string>();

    public static async Task<EmulatorProcess> StartAsync(string dir, params string[] args)
    {
        var process = Process.Start(DeskSyncProcess.StartInfo(dir, ["emulator", "--port", "0", "--json", .. args]))!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return new EmulatorProcess(process, JsonNode.Parse(line!)!.AsObject(), dir);
    }

    public Task<(int ExitCode, string Stdout, string Stderr)> AuthAsync(string? code = null, string? secret = null, string? orgId = null, string? url = null)
    {
        var u = url ?? Url;
        return DeskSyncProcess.RunAsync(Directory, new Dictionary<string, string> { ["DESKSYNC_CLIENT_SECRET"] = secret ?? Value("clientSecret") },
            "auth", "--config", Config, "--accounts-url", u, "--api-url", u,
            "--org-id", orgId ?? Value("orgId"), "--client-id", Value("clientId"), "--grant-code", code ?? Value("grantCode"));
    }

    /// <summary>Connects this portal as the data source <paramref name="source"/> of the settings <paramref name="config"/> (others may be there already), writing to <paramref name="target"/>.</summary>
    public async Task AuthAsSourceAsync(string config, string source, string target)
    {
        var auth = await DeskSyncProcess.RunAsync(Directory, new Dictionary<string, string> { ["DESKSYNC_CLIENT_SECRET"] = Value("clientSecret") },
            "auth", "--config", config, "--source", source, "--accounts-url", Url, "--api-url", Url,
            "--org-id", Value("orgId"), "--client-id", Value("clientId"), "--grant-code", Value("grantCode"));
        Assert.True(auth.ExitCode == 0, auth.Stderr);
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(config))!;
        settings["sources"]![source]!["target"] = target;
        await File.WriteAllTextAsync(config, settings.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

/// <summary>A test class with an emulator process of its own in a temporary folder, optionally connected.</summary>
public abstract class EmulatorProcessTest(string[] emulatorArgs, bool connect) : IAsyncLifetime
{
    internal EmulatorProcess Emulator { get; private set; } = null!;

    protected string Dir { get; private set; } = null!;

    protected string Config => Emulator.Config;

    public async Task InitializeAsync()
    {
        Dir = Directory.CreateTempSubdirectory("desksync-proc-").FullName;
        Emulator = await EmulatorProcess.StartAsync(Dir, emulatorArgs);
        if (connect)
        {
            var auth = await Emulator.AuthAsync();
            Assert.True(auth.ExitCode == 0, auth.Stderr);
        }
    }

    public async Task DisposeAsync()
    {
        await Emulator.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }
}
