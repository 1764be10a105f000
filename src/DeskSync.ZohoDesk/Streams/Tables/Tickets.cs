using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Tickets (Ticket.json, searchTickets). Thread, comment and attachment events change the ticket: it is read again.</summary>
    public static readonly DeskStream Tickets = new("tickets", "Tickets", "tickets", 100, "tickets", F(
        ("id", T), ("ticketNumber", I), ("subject", T), ("status", T), ("statusType", T), ("priority", T), ("channel", T),
        ("category", T), ("subCategory", T), ("classification", T), ("language", T), ("departmentId", T), ("contactId", T),
        ("accountId", T), ("productId", T), ("assigneeId", T), ("teamId", T), ("email", T), ("phone", T), ("description", T),
        ("resolution", T), ("createdTime", Ts), ("modifiedTime", Ts), ("createdBy", T), ("modifiedBy", T), ("dueDate", Ts),
        ("responseDueDate", Ts), ("closedTime", Ts), ("onholdTime", Ts), ("customerResponseTime", Ts), ("isSpam", B),
        ("isArchived", B), ("isEscalated", B), ("isOverDue", B), ("isRead", B), ("threadCount", I), ("commentCount", I), ("childTicketCount", I),
        ("webUrl", T), ("layoutId", T), ("slaId", T), ("secondaryContacts", J), ("sharedDepartments", J), ("entitySkills", J),
        ("lastThread", J), ("contact", J), ("department", J), ("assignee", J), ("team", J), ("product", J)))
    {
        Read = new SearchRead(),
        Events = StreamEvents.Standard("Ticket", delete: true, "Ticket_Thread_Add", "Ticket_Comment_Add", "Ticket_Comment_Update"),
        Scopes = ["Desk.tickets.ALL", "Desk.search.READ"],
    };
}
