using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Teams (Team.json, getTeams: one unpaged answer under "teams").</summary>
    public static readonly DeskStream Teams = new("teams", "Teams", "teams", 0, null, F(
        ("id", T), ("name", T), ("description", T), ("departmentId", T), ("derivedAgents", J), ("roles", J),
        ("subTeams", J), ("logoUrl", T)))
    {
        Read = new SingleAnswerRead("teams"),
        Scopes = ["Desk.basic.READ"],
    };
}
