using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Departments (Department.json, getDepartments). Zoho sends no delete event: a poll's full re-read finds them.</summary>
    public static readonly DeskStream Departments = new("departments", "Departments", "departments", 200, null, F(
        ("id", T), ("name", T), ("description", T), ("isEnabled", B), ("isDefault", B), ("isVisibleInCustomerPortal", B),
        ("isAssignToTeamEnabled", B), ("hasLogo", B), ("chatStatus", T), ("sanitizedName", T), ("nameInCustomerPortal", T),
        ("creatorId", T), ("createdTime", Ts)))
    {
        Read = new ListRead(),
        Events = StreamEvents.Standard("Department", delete: false) with { HasWorkflowRules = false },
        Scopes = ["Desk.basic.READ"],
    };
}
