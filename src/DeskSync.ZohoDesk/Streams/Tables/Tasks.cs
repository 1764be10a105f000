using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Tasks (Task.json, searchTasks).</summary>
    public static readonly DeskStream Tasks = new("tasks", "Tasks", "tasks", 100, "tasks", F(
        ("id", T), ("subject", T), ("description", T), ("dueDate", Ts), ("priority", T), ("status", T), ("statusType", T),
        ("category", T), ("activityType", T), ("departmentId", T), ("ticketId", T), ("contactId", T), ("ownerId", T),
        ("creatorId", T), ("modifiedBy", J), ("completedTime", Ts), ("createdTime", Ts), ("modifiedTime", Ts),
        ("isCommented", B), ("webUrl", T), ("layoutId", T)))
    {
        Read = new SearchRead(),
        Events = StreamEvents.Standard("Task"),
        Scopes = ["Desk.tasks.ALL"],
    };
}
