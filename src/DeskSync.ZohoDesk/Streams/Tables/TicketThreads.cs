using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>
    /// A ticket's threads (Thread.json, getThreads): every reply and incoming message, listed per
    /// ticket whose threadCount is above 0. The list has a summary; each new thread's content is
    /// read once from the thread itself (facts page: GET tickets/{ticketId}/threads/{threadId}).
    /// Pages of 50: Thread.json declares no maximum, and a third-party client caps the list at 50
    /// (a smaller cap than asked for would end the listing at its first page).
    /// </summary>
    public static readonly DeskStream TicketThreads = new("ticket_threads", "Ticket threads", "tickets/{ticketId}/threads", 50, null, F(
        ("ticketId", T), ("id", T), ("channel", T), ("direction", T), ("status", T), ("visibility", T), ("isDescriptionThread", B),
        ("canReply", B), ("hasAttach", B), ("attachmentCount", I), ("respondedIn", T), ("createdTime", Ts), ("contentType", T),
        ("summary", T), ("fromEmailAddress", T), ("to", T), ("cc", T), ("bcc", T), ("isForward", B), ("sentiment", T),
        ("fullContentURL", T), ("isContentTruncated", B), ("content", T), ("author", J), ("source", J)))
    {
        Read = new ChildRead(),
        Parent = new ChildOf("tickets", "ticketId", "tickets/{0}/threads", "threadCount", Order: new("sortBy", "sendDateTime", "-sendDateTime"))
        {
            Events = ["Ticket_Thread_Add"],
            DetailPath = "tickets/{0}/threads/{1}",
            DetailFields = ["content"],
        },
        Scopes = ["Desk.tickets.READ"],
    };
}
