using System.Text.Json.Nodes;
using DeskSync.Tests.Support;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Cli;

/// <summary>`attachmentsFolder` in the settings: `desksync sync` downloads each attachment's file beside the settings file.</summary>
[Trait(Lanes.Key, Lanes.Process)]
public sealed class AttachmentFolderProcessTests() : EmulatorProcessTest(["--tickets", "40"], connect: true)
{
    [Fact]
    public async Task Attachments_folder_in_the_settings_downloads_each_attachment_beside_the_settings()
    {
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Config))!;
        settings["sources"]!["default"]!["attachmentsFolder"] = "files";
        var withFiles = Path.Combine(Path.GetDirectoryName(Config)!, "files.json");
        await File.WriteAllTextAsync(withFiles, settings.ToJsonString());
        var db = Path.Combine(Dir, "files.db");

        var load = await DeskSyncProcess.RunAsync(Dir, null, "sync", "--config", withFiles, "--tables", "ticket_attachments", "--target", "sqlite:" + db, "--quiet");

        Assert.True(load.ExitCode == 0, load.Stderr);
        await using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var rows = await Support.TargetVerifier.ReadRowsAsync(connection, "SELECT id, ticket_id, size FROM ticket_attachments");
        Assert.NotEmpty(rows);
        var folder = Path.Combine(Path.GetDirectoryName(Config)!, "files");
        foreach (var (id, row) in rows)
        {
            var file = Assert.Single(Directory.GetFiles(Path.Combine(folder, (string)row["ticket_id"]!), id + "-*"));
            Assert.Equal(Convert.ToInt64(row["size"], System.Globalization.CultureInfo.InvariantCulture), new FileInfo(file).Length);
        }
    }
}
