using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>
    /// A ticket's tags (TicketTag.json, getTicketTags): one answer per ticket, no paging. A tag is on
    /// many tickets, so a row's id is "ticket:tag" and the tag's own id is `tag_id`. Zoho sends no
    /// event for tags and search answers carry no tag count: the ticket's detail tells (one call
    /// shared with attachments and time entries); tickets with tags are read, and a changed
    /// ticket's again.
    /// </summary>
    public static readonly DeskStream TicketTags = new("ticket_tags", "Ticket tags", "tickets/{ticketId}/tags", 100, null, F(
        ("ticketId", T), ("id", T), ("tagId", T), ("name", T), ("tagType", T)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("tickets", "ticketId", "tickets/{0}/tags", "tagCount", ItemsKey: "tags") { Paged = false, ChildIdField = "tagId", CountInDetailOnly = true },
        Scopes = ["Desk.tickets.READ"],
    };
}
