using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>
    /// A ticket's history (Zoho's web page "Get Ticket History API"; entries as TicketHistory.json
    /// declares them): every status, owner and field change with who made it and when, and the
    /// conversation's events (ThreadAdded, CommentAdded …), newest first, 50 a page. Every ticket
    /// has one (its creation), so every ticket is listed, and a changed ticket's again. Entries
    /// carry no id: a row's id is the ticket's, the entry's time and a hash of the entry.
    /// </summary>
    public static readonly DeskStream TicketHistory = new("ticket_history", "Ticket history", "tickets/{ticketId}/History", 50, null, F(
        ("ticketId", T), ("id", T), ("eventName", T), ("eventTime", Ts), ("source", T), ("actor", J), ("eventInfo", J), ("actorInfo", J)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("tickets", "ticketId", "tickets/{0}/History", null) { KeyTimeField = "eventTime" },
        Scopes = ["Desk.tickets.READ"],
    };
}
