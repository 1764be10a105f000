using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>A ticket's attachments (TicketAttachment.json, getTicketAttachments): metadata and the download link, never the file. Search answers carry no attachment count: the ticket's detail tells (one call shared with time entries and tags), and only tickets with attachments are listed.</summary>
    public static readonly DeskStream TicketAttachments = new("ticket_attachments", "Ticket attachments", "tickets/{ticketId}/attachments", 100, null, F(
        ("ticketId", T), ("id", T), ("name", T), ("size", I), ("isPublic", B), ("creatorId", T), ("createdTime", Ts), ("href", T),
        ("previewurl", T), ("creator", J)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("tickets", "ticketId", "tickets/{0}/attachments", "attachmentCount", Order: new("sortBy", "createdTime", "-createdTime"))
        {
            CountInDetailOnly = true,
            Events = ["Ticket_Attachment_Add", "Ticket_Attachment_Update"],
        },
        Scopes = ["Desk.tickets.READ"],
    };
}
