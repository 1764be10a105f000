using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Events (Event.json; searchEvents in Search.json): meetings and appointments — Desk activities, not webhook events.</summary>
    public static readonly DeskStream Events = new("events", "Events", "events", 100, "events", F(
        ("id", T), ("subject", T), ("description", T), ("category", T), ("startTime", Ts), ("duration", I), ("priority", T), ("status", T),
        ("statusType", T), ("departmentId", T), ("ticketId", T), ("contactId", T), ("ownerId", T), ("creatorId", T),
        ("completedTime", Ts), ("createdTime", Ts), ("modifiedTime", Ts), ("webUrl", T), ("modifiedBy", J), ("reminder", J)))
    {
        Read = new SearchRead(),
        Events = StreamEvents.Standard("Event"),
        Scopes = ["Desk.events.ALL", "Desk.search.READ"],
    };
}
