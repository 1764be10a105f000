using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>A ticket's comments (TicketComment.json, getTicketComments): private and public notes with their content, listed per ticket whose commentCount is above 0.</summary>
    public static readonly DeskStream TicketComments = new("ticket_comments", "Ticket comments", "tickets/{ticketId}/comments", 100, null, F(
        ("ticketId", T), ("id", T), ("content", T), ("contentType", T), ("isPublic", B), ("commenterId", T), ("commentedTime", Ts),
        ("modifiedTime", Ts), ("commenter", J), ("attachments", J)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("tickets", "ticketId", "tickets/{0}/comments", "commentCount", Order: new("sortBy", "commentedTime", "-commentedTime"))
        {
            Events = ["Ticket_Comment_Add", "Ticket_Comment_Update"],
        },
        Scopes = ["Desk.tickets.READ"],
    };
}
