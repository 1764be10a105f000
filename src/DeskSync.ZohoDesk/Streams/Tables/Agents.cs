using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Agents (Agent.json, getAgents).</summary>
    public static readonly DeskStream Agents = new("agents", "Agents", "agents", 200, null, F(
        ("id", T), ("firstName", T), ("lastName", T), ("name", T), ("emailId", T), ("phone", T), ("mobile", T), ("zuid", T),
        ("roleId", T), ("profileId", T), ("timeZone", T), ("langCode", T), ("status", T), ("isConfirmed", B),
        ("isZiaAgent", B), ("rolePermissionType", T), ("associatedDepartmentIds", J)))
    {
        Read = new ListRead(),
        Events = StreamEvents.Standard("Agent") with { HasWorkflowRules = false },
        Scopes = ["Desk.basic.READ"],
    };
}
