using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text;
using DeskSync.Core.Files;
using DeskSync.Core.Journal;
using DeskSync.Core;
using DeskSync.Sinks.Files;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Tests.Reliability;

/// <summary>Customer data on disk is its owner's alone: 0700 folders, 0600 files; looser ones are reported once.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class FileModeTests : IDisposable
{
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Folder700 = File600 | UnixFileMode.UserExecute;
    private static readonly TableSchema Schema = new("tickets", [new ColumnSchema("id", ColumnType.Text, ["id"]), new ColumnSchema("subject", ColumnType.Text, ["subject"])]);

    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-modes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Journal_segments_its_id_and_quarantined_bodies_are_owner_only()
    {
        var folder = Path.Combine(_dir, "journal");
        await using var journal = DurableJournal.Open(folder);
        await journal.AppendAsync("[{}]"u8.ToArray());
        await using var server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "http://127.0.0.1:0" }, journal,
            new WebhookReceiverOptions { Token = "t0ken-t0ken-t0ken-t0ken-t0ken-t0", OrgId = "1", QuarantineDirectory = Path.Combine(folder, "quarantine") });
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(server.Address, "/hooks/t0ken-t0ken-t0ken-t0ken-t0ken-t0"), new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        Assert.Equal(Folder700, File.GetUnixFileMode(folder));
        Assert.Equal(Folder700, File.GetUnixFileMode(Path.Combine(folder, "quarantine")));
        Assert.All(Directory.GetFiles(folder, "*", SearchOption.AllDirectories), f => Assert.Equal(File600, File.GetUnixFileMode(f)));
        Assert.Equal(4, Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length); // segment, id, .body, .reason
    }

    [Fact]
    public async Task A_SQLite_target_and_its_wal_and_shm_are_owner_only()
    {
        var path = Path.Combine(_dir, "db", "t.db");
        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await sink.EnsureTableAsync(Schema, default);
            await sink.ApplyAsync(Schema, [new ChangeEvent(ChangeOp.Read, "tickets", "1", JsonDocument.Parse("""{"id":"1","subject":"s"}""").RootElement, null, "test")], null, default);
            Assert.True(File.Exists(path + "-wal") && File.Exists(path + "-shm"));
            Assert.All([path, path + "-wal", path + "-shm"], f => Assert.Equal(File600, File.GetUnixFileMode(f)));
        }

        Assert.Equal(Folder700, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
    }

    [Theory]
    [InlineData(FileFormat.Jsonl)]
    [InlineData(FileFormat.Csv)]
    public async Task File_targets_are_owner_only(FileFormat format)
    {
        var folder = Path.Combine(_dir, "out");
        await using (var sink = new FileSink(folder, format, SinkMode.Flat))
        {
            await sink.InitializeAsync(default);
            await sink.EnsureTableAsync(Schema, default);
            await sink.ApplyAsync(Schema, [new ChangeEvent(ChangeOp.Read, "tickets", "1", JsonDocument.Parse("""{"id":"1","subject":"s"}""").RootElement, null, "test")], new Checkpoint("s", "{}"), default);
        }

        Assert.Equal(Folder700, File.GetUnixFileMode(folder));
        Assert.NotEmpty(Directory.GetFiles(folder));
        Assert.All(Directory.GetFiles(folder), f => Assert.Equal(File600, File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task A_looser_existing_target_is_reported_once_and_left_as_it_is()
    {
        var path = Path.Combine(_dir, "shared.db");
        await File.WriteAllBytesAsync(path, []);
        File.SetUnixFileMode(path, File600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var lines = new ConcurrentQueue<string>();
        var previous = OwnerOnly.Warn;
        OwnerOnly.Warn = lines.Enqueue;
        try
        {
            for (var i = 0; i < 2; i++)
            {
                await using var sink = new SqliteSink(path, SinkMode.Flat);
                await sink.InitializeAsync(default);
            }
        }
        finally
        {
            OwnerOnly.Warn = previous;
        }

        var mine = lines.Where(l => l.Contains(path, StringComparison.Ordinal)).ToList();
        Assert.Single(mine);
        Assert.Contains("0644", mine[0], StringComparison.Ordinal);
        Assert.Contains("chmod 600", mine[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_secrets_file_is_a_clear_error_that_shows_none_of_its_contents()
    {
        var path = Path.Combine(_dir, "secrets.json");
        await File.WriteAllTextAsync(path, "{\"refreshToken\":\"1000.secret-refresh-token\", oops");

        var error = await Assert.ThrowsAsync<ZohoAuthException>(() => new FileTokenStore(path).LoadAsync(default));

        Assert.Equal(AuthFailure.SecretsFileUnreadable, error.Failure);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("desksync auth", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-refresh-token", error.Message, StringComparison.Ordinal);
    }
}
