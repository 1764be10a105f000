using System.Globalization;
using System.Text.Json;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>With --log json, every line on stderr is one JSON object — banners, progress, warnings and errors — with a UTC timestamp as people read it.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class JsonLogProcessTests() : EmulatorProcessTest(["--tickets", "50"], connect: true)
{
    [Theory]
    [InlineData("sync --quiet --tables tickets,departments", 0)]
    [InlineData("run --once --tables tickets --listen http://127.0.0.1:0", 0)]
    [InlineData("poll --tables departments", 0)]
    [InlineData("sync --target sqlit:x.db", 2)]
    public async Task Every_line_on_stderr_is_one_JSON_object(string command, int exitCode)
    {
        if (command.StartsWith("run", StringComparison.Ordinal) || command.StartsWith("poll", StringComparison.Ordinal))
        {
            Assert.Equal(0, (await DeskSyncProcess.RunAsync(Dir, null, ["sync", "--config", Config, "--quiet"])).ExitCode);
        }

        var result = await DeskSyncProcess.RunAsync(Dir, null, [.. command.Split(' '), "--config", Config, "--log", "json"]);

        Assert.True(result.ExitCode == exitCode, result.Stderr);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0 || command.StartsWith("poll", StringComparison.Ordinal), "nothing on stderr"); // poll's results go to stdout
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            var ts = root.GetProperty("ts").GetString()!;
            Assert.True(DateTime.TryParseExact(ts, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out _), ts);
            Assert.Contains(root.GetProperty("level").GetString(), new[] { "info", "warning", "error" });
            Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()));
        }

        if (exitCode != 0)
        {
            Assert.Contains(lines, l => JsonDocument.Parse(l).RootElement.GetProperty("level").GetString() == "error");
        }
    }
}
