using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;

namespace DeskSync.Cli;

/// <summary>The opt-in download of attachments' files: on when the source names an attachmentsFolder and ticket_attachments is replicated.</summary>
internal static class AttachmentFolders
{
    /// <summary>The target, with each attachment's file downloaded into the folder (relative to the settings file) before its row is written.</summary>
    public static ISink Wrap(ISink sink, DataSourceConfig source, string configPath, DeskClient client, IReadOnlyList<DeskStream> tables, bool removeDeleted)
    {
        if (source.AttachmentsFolder is not { Length: > 0 } folder || !tables.Contains(DeskStreams.TicketAttachments))
        {
            return sink;
        }

        var path = Path.IsPathRooted(folder) ? folder : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, folder);
        return new AttachmentFiles(sink, client, path, removeDeleted, line => OutputLog.Warn("attachment_not_downloaded", line));
    }
}
