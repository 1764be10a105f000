using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Emulator.Desk;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;

namespace DeskSync.Tests.Children;

/// <summary>The opt-in download of attachments' files into a folder: each file once, byte for byte, owner-only, gone with its attachment.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class AttachmentFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Every_attachment_file_is_downloaded_once_kept_owner_only_and_removed_with_its_attachment()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 60 } });
        var client = await portal.ConnectAsync();
        var desk = portal.Emulator.Portal;
        var calls = portal.Emulator.Api.Calls;
        var warnings = new List<string>();
        await using var sink = new AttachmentFiles(new SqliteSink(Path.Combine(_dir, "files.db"), SinkMode.Flat), client, Path.Combine(_dir, "files"), removeDeleted: true, warnings.Add);
        var tables = DeskStreams.WithParents([DeskStreams.TicketAttachments]);

        await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(tables, null, CancellationToken.None);

        var attachments = Attachments(desk);
        Assert.True(attachments.Count > 5, $"{attachments.Count} attachments");
        foreach (var (ticketId, attachment) in attachments)
        {
            var path = sink.PathOf(ticketId, attachment["id"]!.GetValue<string>(), attachment["name"]!.GetValue<string>());
            Assert.Equal(Portal.AttachmentContent(attachment), await File.ReadAllBytesAsync(path));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            }
        }

        Assert.Equal(attachments.Count, calls["getTicketAttachmentContent"]);
        Assert.Equal(attachments.Count, sink.Downloaded);
        Assert.Empty(warnings);
        Assert.Empty(Directory.EnumerateFiles(sink.Folder, "*.part", SearchOption.AllDirectories));

        // Every ticket with attachments changes, one loses an attachment and one gains one: the poll
        // lists them again, downloads the new file only and removes the deleted one's.
        var (ticket, gone) = attachments[0];
        desk.DeleteChild("attachments", ticket, gone["id"]!.GetValue<string>());
        var added = desk.AddChild("attachments", attachments[^1].TicketId, new JsonObject { ["name"] = "../../etc/passwd", ["size"] = "2048" })!;
        foreach (var id in attachments.Select(a => a.TicketId).Distinct())
        {
            desk.Update("tickets", id, new JsonObject { ["priority"] = "High" });
        }

        await new Poller(client, sink).PollOnceAsync(tables, null, CancellationToken.None);

        Assert.Equal(attachments.Count + 1, calls["getTicketAttachmentContent"]);
        Assert.False(File.Exists(sink.PathOf(ticket, gone["id"]!.GetValue<string>(), gone["name"]!.GetValue<string>())));
        var addedPath = sink.PathOf(attachments[^1].TicketId, added["id"]!.GetValue<string>(), "../../etc/passwd");
        Assert.StartsWith(sink.Folder, Path.GetFullPath(addedPath), StringComparison.Ordinal);
        Assert.Equal(Portal.AttachmentContent(added), await File.ReadAllBytesAsync(addedPath));
        Assert.Equal(Attachments(desk).Count, Directory.EnumerateFiles(sink.Folder, "*", SearchOption.AllDirectories).Count());
    }

    private static List<(string TicketId, JsonObject Attachment)> Attachments(Portal desk) =>
        [.. desk.List("tickets").SelectMany(t => (desk.Children("attachments", t["id"]!.GetValue<string>()) ?? []).Select(a => (t["id"]!.GetValue<string>(), a)))];
}
