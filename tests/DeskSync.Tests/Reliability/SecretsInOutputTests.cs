using System.Text.Json;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Reliability;

/// <summary>Runs every command that touches a connected source and searches all it prints, and the settings, for any secret.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class SecretsInOutputTests() : EmulatorProcessTest(["--tickets", "120"], connect: false)
{
    [Fact]
    public async Task No_command_prints_a_secret()
    {
        var outputs = new List<string>();
        var auth = await Emulator.AuthAsync();
        outputs.Add(auth.Stdout + auth.Stderr);
        var config = Emulator.Config;
        var db = "sqlite:" + Path.Combine(Dir, "s.db");
        string[][] commands =
        [
            ["check", "--config", config],
            ["discover", "--config", config],
            ["sync", "--config", config, "--target", db, "--log", "json"],
            ["poll", "--config", config, "--target", db, "--reconcile"],
            ["status", "--config", config, "--target", db, "--json"],
            ["run", "--config", config, "--target", db, "--once", "--listen", "http://127.0.0.1:0"],
            ["webhook", "list", "--config", config],
            ["sync", "--config", config, "--target", "postgres:Host=127.0.0.1;Port=9;Username=u;Password=pg-secret-123;Timeout=2"],
        ];
        foreach (var args in commands)
        {
            var r = await DeskSyncProcess.RunAsync(Dir, null, args);
            outputs.Add(r.Stdout + r.Stderr);
            var expected = args.Any(a => a.StartsWith("postgres:", StringComparison.Ordinal)) ? DeskSync.Cli.ExitCodes.Target : 0;
            Assert.True(expected == r.ExitCode, $"{string.Join(' ', args.Take(1))} exited {r.ExitCode}: {r.Stderr}");
        }

        var secretsFile = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Dir, ".desksync", "secrets", "default.json"))).RootElement;
        var serviceToken = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Dir, ".desksync", "secrets", "default.service-token.json"))).RootElement.GetProperty("Token").GetString()!;
        var secrets = new[]
        {
            Emulator.Value("clientSecret"), Emulator.Value("grantCode"), secretsFile.GetProperty("refreshToken").GetString()!,
            secretsFile.GetProperty("accessToken").GetString()!, serviceToken, "pg-secret-123",
        };
        outputs.Add(await File.ReadAllTextAsync(config));
        foreach (var output in outputs)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            }
        }
    }
}
