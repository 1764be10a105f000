using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>A ticket's time entries (TicketTimeEntry.json, getTicketTimeEntries): time logged and its cost. Zoho sends no event for them and search answers carry no count: the ticket's detail tells (one call shared with attachments and tags); tickets with time entries are listed, and a changed ticket's again.</summary>
    public static readonly DeskStream TicketTimeEntries = new("ticket_time_entries", "Ticket time entries", "tickets/{ticketId}/timeEntry", 100, null, F(
        ("ticketId", T), ("id", T), ("executedTime", Ts), ("description", T), ("ownerId", T), ("mode", T), ("isBillable", B),
        ("billingType", T), ("hoursSpent", I), ("minutesSpent", I), ("secondsSpent", I), ("createdTime", Ts), ("createdBy", T),
        ("departmentId", T), ("isTrashed", B), ("totalCost", D), ("agentCostPerHour", D), ("additionalCost", D), ("fixedCost", D),
        ("invoiceId", T), ("taskId", T), ("layoutId", T), ("requestChargeType", T), ("owner", J), ("parent", J), ("cf", J)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("tickets", "ticketId", "tickets/{0}/timeEntry", "timeEntryCount", Order: new("orderBy", "ASC", "DESC")) { CountInDetailOnly = true },
        Scopes = ["Desk.tickets.READ"],
    };
}
