using System.Text.Json;
using DeskSync.Core;
using DeskSync.Core.Files;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>
/// Attachments' files in a folder of their own (opt-in; never in the database), one folder per
/// ticket: <c>{folder}/{ticketId}/{attachmentId}-{name}</c>. A ticket_attachments row has its file
/// downloaded before the row is written, whatever wrote it — the full load, a poll, a webhook, a
/// re-read — so a committed row's file is on disk; a file already there at the attachment's size
/// is not read again. With hard deletes a deleted attachment's file goes, and a deleted ticket's
/// folder. A file Zoho refuses or no longer has is reported and tried again the next time its row
/// is written. Folders and files are their owner's alone.
/// </summary>
public sealed class AttachmentFiles(ISink inner, DeskClient client, string folder, bool removeDeleted, Action<string>? warn = null) : DelegatingSink(inner)
{
    private static readonly string Table = DeskStreams.TicketAttachments.Name;
    private long _downloaded;
    private long _failed;

    public string Folder { get; } = Path.GetFullPath(folder);

    public long Downloaded => Interlocked.Read(ref _downloaded);

    public long Failed => Interlocked.Read(ref _failed);

    public override async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        if (schema.Name != Table)
        {
            await base.ApplyAsync(schema, events, checkpoint, cancellationToken);
            return;
        }

        await Task.WhenAll(events.Where(e => e.Op != ChangeOp.Delete && e.Record is not null).Select(e => EnsureAsync(e.Record!.Value, cancellationToken)));
        await base.ApplyAsync(schema, events, checkpoint, cancellationToken);
        if (removeDeleted)
        {
            foreach (var delete in events.Where(e => e.Op == ChangeOp.Delete))
            {
                Remove(delete);
            }
        }
    }

    /// <summary>Where an attachment's file is kept: its ticket's folder, its id, and its name made safe for any file system.</summary>
    public string PathOf(string ticketId, string attachmentId, string? name) =>
        Path.Combine(Folder, Safe(ticketId), $"{Safe(attachmentId)}-{Safe(name ?? "file")}");

    private async Task EnsureAsync(JsonElement attachment, CancellationToken ct)
    {
        var ticketId = Text(attachment, DeskStreams.TicketAttachments.Parent!.ParentField);
        var id = Text(attachment, "id");
        if (ticketId is null || id is null)
        {
            return;
        }

        var path = PathOf(ticketId, id, Text(attachment, "name"));
        var size = long.TryParse(Text(attachment, "size"), System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : (long?)null;
        if (File.Exists(path) && (size is null || new FileInfo(path).Length == size))
        {
            return;
        }

        OwnerOnly.CreateFolder(Folder);
        OwnerOnly.CreateFolder(Path.GetDirectoryName(path)!);
        var temp = path + ".part";
        try
        {
            await using (var file = new FileStream(temp, OwnerOnly.NewFile(FileMode.Create, FileAccess.Write)))
            {
                await client.DownloadAsync(ContentPath(attachment, ticketId, id), file, Table, ct);
            }

            File.Move(temp, path, overwrite: true);
            Interlocked.Increment(ref _downloaded);
        }
        catch (ZohoApiException ex) when (ex.Kind is ZohoFailureKind.NotFound or ZohoFailureKind.Forbidden or ZohoFailureKind.Configuration)
        {
            File.Delete(temp);
            Interlocked.Increment(ref _failed);
            warn?.Invoke($"attachment {id} of ticket {ticketId} not downloaded: {ex.Message}");
        }
    }

    private void Remove(ChangeEvent delete)
    {
        if (delete.Scope is { } scope)
        {
            // A ticket's attachments that Zoho no longer lists (nothing kept: the ticket is gone).
            var ticketFolder = Path.Combine(Folder, Safe(delete.Key));
            if (!Directory.Exists(ticketFolder))
            {
                return;
            }

            foreach (var file in Directory.EnumerateFiles(ticketFolder))
            {
                var id = Path.GetFileName(file).Split('-')[0];
                if (!scope.Keep.Contains(id) && (scope.WrittenBefore is not { } before || File.GetLastWriteTimeUtc(file) < before.UtcDateTime))
                {
                    File.Delete(file);
                }
            }

            return;
        }

        if (Directory.Exists(Folder))
        {
            foreach (var file in Directory.EnumerateFiles(Folder, $"{Safe(delete.Key)}-*", SearchOption.AllDirectories))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>The attachment's own link (its path below /api/v1/, on the data centre the client talks to — never another host), or the documented one.</summary>
    private static string ContentPath(JsonElement attachment, string ticketId, string id)
    {
        const string Api = "/api/v1/";
        if (Text(attachment, "href") is { } href && Uri.TryCreate(href, UriKind.Absolute, out var uri) && uri.AbsolutePath.IndexOf(Api, StringComparison.Ordinal) is var at and >= 0)
        {
            return uri.AbsolutePath[(at + Api.Length)..];
        }

        return $"tickets/{Uri.EscapeDataString(ticketId)}/attachments/{Uri.EscapeDataString(id)}/content";
    }

    private static string? Text(JsonElement record, string field) =>
        record.TryGetProperty(field, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number ? v.ToString() : null;

    /// <summary>A name without path separators, control characters or characters Windows refuses, at most 120 characters.</summary>
    private static string Safe(string name)
    {
        var invalid = Path.GetInvalidFileNameChars().Concat(['\\', '/', ':', '*', '?', '"', '<', '>', '|']).ToHashSet();
        var safe = new string([.. name.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c)]).Trim().TrimStart('.');
        return safe.Length == 0 ? "_" : safe.Length > 120 ? safe[..120] : safe;
    }
}
