namespace DeskSync.Emulator.Desk;

/// <summary>
/// A list the emulator serves per ticket (GET /tickets/{ticketId}/threads, …), by Zoho's
/// operation id: the ticket field counting its items, the webhook events Webhook.json declares for
/// it (Ticket_Thread_Add; no delete events anywhere, time entries none at all), and how it sorts.
/// </summary>
/// <param name="SortParameter">sortBy (a "-" prefix: newest first) or orderBy (ASC/DESC).</param>
/// <param name="SortField">The stored field the list is ordered by.</param>
public sealed record EmulatedChild(string Name, string ListOperation, string CountField, string? EventPrefix, bool HasUpdateEvent, string SortParameter, string SortField)
{
    /// <summary>The answer's array: `data`, or `tags` for a ticket's tags (TicketTag.json).</summary>
    public string ItemsKey { get; init; } = "data";

    /// <summary>Whether the list takes from/limit; a ticket's tags come whole in one answer.</summary>
    public bool Paged { get; init; } = true;

    /// <summary>The history entries a child's add, update and delete make (TicketHistory.json's eventName); null where it names none (a thread's update).</summary>
    public (string? Added, string? Updated, string? Deleted) HistoryEvents { get; init; }

    public bool Descending(string? value) => SortParameter == "orderBy" ? value == "DESC" : value?.StartsWith('-') == true;
}

public static class EmulatedChildren
{
    public static readonly IReadOnlyList<EmulatedChild> All =
    [
        new("threads", "getThreads", "threadCount", "Ticket_Thread", false, "sortBy", "createdTime") { HistoryEvents = ("ThreadAdded", null, "ThreadDeleted") },
        new("comments", "getTicketComments", "commentCount", "Ticket_Comment", true, "sortBy", "commentedTime") { HistoryEvents = ("CommentAdded", "CommentEdited", "CommentDeleted") },
        new("attachments", "getTicketAttachments", "attachmentCount", "Ticket_Attachment", true, "sortBy", "createdTime") { HistoryEvents = ("AttachmentAdded", "AttachmentUpdated", "AttachmentDeleted") },
        new("timeEntries", "getTicketTimeEntries", "timeEntryCount", null, false, "orderBy", "executedTime") { HistoryEvents = ("TimeEntryAdded", "TimeEntryUpdated", "TimeEntryDeleted") },
        new("tags", "getTicketTags", "tagCount", null, false, "", "name") { ItemsKey = "tags", Paged = false, HistoryEvents = ("TagsAdded", null, "TagsRemoved") },
    ];

    public static EmulatedChild? Named(string name) => All.FirstOrDefault(c => c.Name == name);
}
