using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>
    /// The tag catalogue (TicketTag.json, getTicketsTags): each department's tags, those on no
    /// ticket included, one list per department (departmentId is required). A department's tag has
    /// the row id "department:tag", the tag's own id in `tag_id`. Zoho's `ticketCount` is not a
    /// column: no event says when it moves, and ticket_tags counts the same exactly.
    /// </summary>
    public static readonly DeskStream Tags = new("tags", "Tags", "ticketTags", 100, null, F(
        ("departmentId", T), ("id", T), ("tagId", T), ("name", T), ("tagType", T)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("departments", "departmentId", "ticketTags?departmentId={0}", null) { ChildIdField = "tagId" },
        Scopes = ["Desk.tickets.READ"],
    };
}
