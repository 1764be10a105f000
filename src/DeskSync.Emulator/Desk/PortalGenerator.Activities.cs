using System.Globalization;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>Activities: tasks, calls and events, each linked to a ticket, a contact and an agent.</summary>
internal sealed partial class PortalGenerator
{
    private JsonObject Task(DateTimeOffset created)
    {
        var id = NextId();
        var done = _random.Next(3) == 0;
        var modified = Modified(created);
        return new JsonObject
        {
            ["id"] = id,
            ["subject"] = Pick(["Call back customer", "Ship replacement", "Check invoice", "Follow up"]),
            ["description"] = null,
            ["dueDate"] = Portal.Iso(created.AddDays(2)),
            ["priority"] = Pick(Priorities),
            ["status"] = done ? "Completed" : "Not Started",
            ["statusType"] = done ? "Closed" : "Open",
            ["category"] = Pick(["Call", "Email", "Meeting"]),
            ["departmentId"] = Id(PickRecord("departments")),
            ["ticketId"] = Id(PickRecord("tickets")),
            ["ownerId"] = Id(PickRecord("agents")),
            ["creatorId"] = Id(PickRecord("agents")),
            ["modifiedBy"] = PickRecord("agents") is { } editor
                ? new JsonObject { ["id"] = Id(editor), ["firstName"] = editor["firstName"]?.GetValue<string>(), ["lastName"] = editor["lastName"]?.GetValue<string>(), ["emailId"] = editor["emailId"]?.GetValue<string>(), ["photoURL"] = null }
                : null,
            ["completedTime"] = done ? Portal.Iso(modified) : null,
            ["activityTime"] = created.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["isTrashed"] = false,
            ["isSpam"] = false,
            ["isCommented"] = false,
            ["layoutId"] = "1000000000501",
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Tasks/dv/{id}",
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(modified),
            ["cf"] = CustomValues("tasks"),
        };
    }

    private JsonObject Call(DateTimeOffset created) => Activity(created, "Calls", new JsonObject
    {
        // Call.json's status values; statusType follows.
        ["status"] = Pick(["Completed", "Scheduled", "Missed", "Canceled", "In Progress"]) is var status ? status : null,
        ["statusType"] = status is "Completed" or "Missed" or "Canceled" ? "Closed" : "Open",
        ["subject"] = Pick(["Callback about refund", "Onboarding call", "Escalation call", "Renewal call"]),
        ["direction"] = Pick(["inbound", "outbound"]),
        ["layoutId"] = "1000000000601",
    });

    private JsonObject Event(DateTimeOffset created) => Activity(created, "Events", new JsonObject
    {
        ["subject"] = Pick(["Site visit", "Quarterly review", "Product demo", "Training session"]),
        ["category"] = Pick(["Meeting", "Demo", "Training"]),
    });

    /// <summary>A call or event: an activity with a start time and duration, linked to a ticket and its contact.</summary>
    private JsonObject Activity(DateTimeOffset created, string type, JsonObject own)
    {
        var id = NextId();
        var done = _random.Next(2) == 0;
        var modified = Modified(created);
        var ticket = PickRecord("tickets");
        var contact = ticket?["contactId"]?.GetValue<string>() is { } cid ? _portal.Get("contacts", cid) : PickRecord("contacts");
        var dept = PickRecord("departments");
        var owner = PickRecord("agents");
        var module = type.ToLowerInvariant();
        var record = new JsonObject
        {
            ["id"] = id,
            ["description"] = _random.Next(3) == 0 ? null : "Talked through the open points; next steps agreed.",
            ["startTime"] = Portal.Iso(created.AddHours(_random.Next(1, 72))),
            ["duration"] = (_random.Next(1, 120) * 60).ToString(CultureInfo.InvariantCulture),
            ["priority"] = Pick(Priorities),
            ["status"] = done ? "Completed" : "Not Started",
            ["statusType"] = done ? "Closed" : "Open",
            ["activityType"] = type,
            ["departmentId"] = Id(dept),
            ["department"] = dept is null ? null : new JsonObject { ["id"] = Id(dept), ["name"] = dept["name"]!.GetValue<string>() },
            ["ticketId"] = Id(ticket),
            ["ticket"] = ticket is null ? null : new JsonObject
            {
                ["id"] = Id(ticket), ["ticketNumber"] = ticket["ticketNumber"]?.GetValue<string>(), ["subject"] = ticket["subject"]?.GetValue<string>(),
                ["status"] = ticket["status"]?.GetValue<string>(), ["channel"] = ticket["channel"]?.GetValue<string>(), ["phone"] = ticket["phone"]?.GetValue<string>(),
                ["dueDate"] = ticket["dueDate"]?.GetValue<string>(), ["closedTime"] = ticket["closedTime"]?.GetValue<string>(), ["createdTime"] = ticket["createdTime"]?.GetValue<string>(),
                ["isArchived"] = false, ["isSpam"] = false, ["secId"] = null, ["teamId"] = null, ["team"] = null, ["contact"] = null, ["assignee"] = null,
            },
            ["contactId"] = Id(contact),
            ["contact"] = contact is null ? null : new JsonObject
            {
                ["id"] = Id(contact), ["firstName"] = contact["firstName"]?.GetValue<string>(), ["lastName"] = contact["lastName"]?.GetValue<string>(),
                ["email"] = contact["email"]?.GetValue<string>(), ["phone"] = contact["phone"]?.GetValue<string>(), ["mobile"] = contact["mobile"]?.GetValue<string>(),
                ["accountId"] = contact["accountId"]?.GetValue<string>(), ["isSpam"] = false, ["secId"] = null,
            },
            ["ownerId"] = Id(owner),
            ["assignee"] = Person(owner),
            ["creatorId"] = Id(owner),
            ["modifiedBy"] = Person(PickRecord("agents")),
            ["completedTime"] = done ? Portal.Iso(modified) : null,
            ["reminder"] = new JsonArray(),
            ["isCommented"] = false,
            ["isTrashed"] = false,
            ["isSpam"] = false,
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#{type}/dv/{id}",
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(modified),
            ["cf"] = CustomValues(module),
        };
        if (own["statusType"]?.GetValue<string>() == "Open")
        {
            record["completedTime"] = null;
        }

        foreach (var (key, value) in own)
        {
            record[key] = value?.DeepClone();
        }

        return record;
    }

    /// <summary>An agent as activities nest one (assignee, modifiedBy).</summary>
    private static JsonObject? Person(JsonObject? agent) => agent is null ? null : new JsonObject
    {
        ["id"] = Id(agent), ["firstName"] = agent["firstName"]?.GetValue<string>(), ["lastName"] = agent["lastName"]?.GetValue<string>(),
        ["emailId"] = agent["emailId"]?.GetValue<string>(), ["photoURL"] = null, ["zuid"] = agent["zuid"]?.GetValue<string>(),
    };
}
