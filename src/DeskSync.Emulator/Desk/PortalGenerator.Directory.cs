using System.Globalization;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>Departments, agents, teams, accounts and contacts.</summary>
internal sealed partial class PortalGenerator
{
    private JsonObject Department(DateTimeOffset created)
    {
        var id = NextId();
        var name = Pick(["Support", "Sales", "Billing", "Returns & Repairs", "Support – EMEA"]) + " " + (_portal.Count("departments") + 1).ToString(CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["nameInCustomerPortal"] = name,
            ["sanitizedName"] = name.ToLowerInvariant().Replace(' ', '-'),
            ["description"] = $"The {name} team",
            ["isEnabled"] = true,
            ["isDefault"] = _portal.Count("departments") == 0,
            ["isVisibleInCustomerPortal"] = true,
            ["isAssignToTeamEnabled"] = true,
            ["hasLogo"] = false,
            ["chatStatus"] = "NOT_CREATED",
            ["creatorId"] = "1000000000010",
            ["createdTime"] = Portal.Iso(created),
        };
    }

    private JsonObject Agent(DateTimeOffset created)
    {
        var first = Pick(FirstNames);
        var last = Pick(LastNames);
        var id = NextId();
        return new JsonObject
        {
            ["id"] = id,
            ["firstName"] = first,
            ["lastName"] = last,
            ["name"] = $"{first} {last}",
            ["emailId"] = $"{Ascii(first)}.{Ascii(last)}{id[^4..]}@example.com",
            ["phone"] = null,
            ["mobile"] = null,
            ["zuid"] = (700000000L + _random.Next(1, 99999999)).ToString(CultureInfo.InvariantCulture),
            ["photoURL"] = null,
            ["roleId"] = "1000000000101",
            ["profileId"] = "1000000000201",
            ["timeZone"] = "Asia/Kolkata",
            ["langCode"] = "en_US",
            ["status"] = "ACTIVE",
            ["isConfirmed"] = true,
            ["isZiaAgent"] = false,
            ["rolePermissionType"] = "AgentPublic",
            ["associatedDepartmentIds"] = new JsonArray(_portal.List("departments").Select(d => (JsonNode)Id(d)!).ToArray()),
            ["createdTime"] = Portal.Iso(created),
        };
    }

    private JsonObject Team(DateTimeOffset created)
    {
        var dept = PickRecord("departments");
        return new JsonObject
        {
            ["id"] = NextId(),
            ["name"] = Pick(["Tier 1", "Tier 2", "Escalations", "Night shift"]) + " " + (_portal.Count("teams") + 1).ToString(CultureInfo.InvariantCulture),
            ["description"] = "Team",
            ["departmentId"] = Id(dept),
            ["roles"] = new JsonArray(),
            ["subTeams"] = new JsonArray(),
            ["derivedAgents"] = new JsonArray(_portal.List("agents").Take(3).Select(a => (JsonNode)Id(a)!).ToArray()),
            ["logoUrl"] = null,
            ["createdTime"] = Portal.Iso(created),
        };
    }

    private JsonObject Account(DateTimeOffset created)
    {
        var id = NextId();
        var name = Pick(["Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Soylent", "Ünicorn"]) + " " + Pick(["Corp", "Ltd", "GmbH", "S.A.", "株式会社"]) + " " + id[^3..];
        return new JsonObject
        {
            ["id"] = id,
            ["accountName"] = name,
            ["email"] = $"info{id[^5..]}@example.com",
            ["phone"] = "+1 555 0100",
            ["website"] = $"https://www.example{id[^4..]}.com",
            ["industry"] = Pick(["Retail", "Manufacturing", "Software"]),
            ["ownerId"] = Id(PickRecord("agents")),
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(Modified(created)),
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Accounts/dv/{id}",
            ["customerHappiness"] = new JsonObject { ["badPercentage"] = "0", ["okPercentage"] = "0", ["goodPercentage"] = "100" },
            ["zohoCRMAccount"] = null,
            ["cf"] = CustomValues("accounts"),
        };
    }

    private JsonObject Contact(DateTimeOffset created)
    {
        var id = NextId();
        var first = Pick(FirstNames);
        var last = Pick(LastNames);
        return new JsonObject
        {
            ["id"] = id,
            ["firstName"] = first,
            ["lastName"] = last,
            ["email"] = $"{Ascii(first)}.{Ascii(last)}.{id[^5..]}@example.org",
            ["secondaryEmail"] = null,
            ["phone"] = "+1 555 0199",
            ["mobile"] = null,
            ["type"] = null,
            ["accountId"] = Id(PickRecord("accounts")),
            ["ownerId"] = Id(PickRecord("agents")),
            ["isAnonymous"] = false,
            ["isEndUser"] = false,
            ["isSpam"] = false,
            ["accountCount"] = "1",
            ["photoURL"] = null,
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Contacts/dv/{id}",
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(Modified(created)),
            ["customerHappiness"] = new JsonObject { ["badPercentage"] = "0", ["okPercentage"] = "0", ["goodPercentage"] = "100" },
            ["zohoCRMContact"] = null,
            ["cf"] = CustomValues("contacts"),
        };
    }
}
