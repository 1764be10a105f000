using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Calls (Call.json; searchCalls in Search.json): phone calls logged against tickets and contacts.</summary>
    public static readonly DeskStream Calls = new("calls", "Calls", "calls", 100, "calls", F(
        ("id", T), ("subject", T), ("description", T), ("direction", T), ("startTime", Ts), ("duration", I), ("priority", T), ("status", T),
        ("statusType", T), ("departmentId", T), ("ticketId", T), ("contactId", T), ("ownerId", T), ("creatorId", T),
        ("completedTime", Ts), ("createdTime", Ts), ("modifiedTime", Ts), ("webUrl", T), ("layoutId", T), ("modifiedBy", J), ("reminder", J)))
    {
        Read = new SearchRead(),
        Events = StreamEvents.Standard("Call"),
        Scopes = ["Desk.calls.READ", "Desk.search.READ"],
    };
}
