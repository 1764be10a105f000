using System.Globalization;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>Tickets, with the nested contact, assignee, team and product their answers carry.</summary>
internal sealed partial class PortalGenerator
{
    private JsonObject Ticket(DateTimeOffset created)
    {
        var id = NextId();
        var status = Pick(Statuses);
        var dept = PickRecord("departments");
        var contact = PickRecord("contacts");
        var product = PickRecord("products");
        var agent = PickRecord("agents");
        var team = PickRecord("teams");
        var account = contact?["accountId"]?.GetValue<string>() is { } aid ? _portal.Get("accounts", aid) : null;
        var modified = Modified(created);
        var number = (++_ticketNumber).ToString(CultureInfo.InvariantCulture);
        var email = contact?["email"]?.GetValue<string>();
        return new JsonObject
        {
            ["id"] = id,
            ["ticketNumber"] = number,
            ["subject"] = $"{Pick(["Cannot log in", "Refund request", "Broken item", "Question about invoice", "Feature request"])} #{number}",
            ["description"] = $"<div>Customer wrote about ticket {number}. Ünïcödé and \"quotes\".</div>",
            ["status"] = status,
            ["statusType"] = StatusType(status),
            ["priority"] = Pick(Priorities),
            ["channel"] = Pick(Channels),
            ["channelCode"] = null,
            ["category"] = Pick(Categories),
            ["subCategory"] = null,
            ["classification"] = Pick(["Question", "Problem", "Request", "Others"]),
            ["language"] = "English",
            ["departmentId"] = Id(dept),
            ["department"] = dept is null ? null : new JsonObject { ["id"] = Id(dept), ["name"] = dept["name"]!.GetValue<string>() },
            ["contactId"] = Id(contact),
            ["contact"] = contact is null ? null : new JsonObject
            {
                ["id"] = Id(contact),
                ["firstName"] = contact["firstName"]?.GetValue<string>(),
                ["lastName"] = contact["lastName"]?.GetValue<string>(),
                ["email"] = email,
                ["phone"] = contact["phone"]?.GetValue<string>(),
                ["mobile"] = contact["mobile"]?.GetValue<string>(),
                ["type"] = null,
                ["isSpam"] = false,
                ["account"] = account is null ? null : new JsonObject
                {
                    ["id"] = Id(account),
                    ["accountName"] = account["accountName"]?.GetValue<string>(),
                    ["website"] = account["website"]?.GetValue<string>(),
                },
            },
            ["accountId"] = Id(account),
            ["productId"] = Id(product),
            ["product"] = product is null ? null : new JsonObject { ["id"] = Id(product), ["productName"] = product["productName"]?.GetValue<string>() },
            ["assigneeId"] = Id(agent),
            ["assignee"] = agent is null ? null : new JsonObject
            {
                ["id"] = Id(agent),
                ["firstName"] = agent["firstName"]?.GetValue<string>(),
                ["lastName"] = agent["lastName"]?.GetValue<string>(),
                ["email"] = agent["emailId"]?.GetValue<string>(),
                ["emailId"] = agent["emailId"]?.GetValue<string>(),
                ["photoURL"] = null,
                ["zuid"] = agent["zuid"]?.GetValue<string>(),
            },
            ["teamId"] = Id(team),
            ["team"] = team is null ? null : new JsonObject { ["id"] = Id(team), ["name"] = team["name"]?.GetValue<string>(), ["logoUrl"] = null },
            ["email"] = email,
            ["phone"] = contact?["phone"]?.GetValue<string>(),
            ["resolution"] = status == "Closed" ? "Resolved by replacing the part." : null,
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(modified),
            ["createdBy"] = Id(agent),
            ["modifiedBy"] = Id(agent),
            ["dueDate"] = Portal.Iso(created.AddDays(3)),
            ["responseDueDate"] = null,
            ["closedTime"] = status == "Closed" ? Portal.Iso(modified) : null,
            ["onholdTime"] = status == "On Hold" ? Portal.Iso(modified) : null,
            ["customerResponseTime"] = Portal.Iso(created),
            ["isDeleted"] = false,
            ["isTrashed"] = false,
            ["isSpam"] = false,
            ["isArchived"] = false,
            ["isEscalated"] = status == "Escalated",
            ["isOverDue"] = false,
            ["isResponseOverdue"] = false,
            ["isRead"] = _random.Next(2) == 0,
            ["isFollowing"] = false,
            // Most tickets have 1–10 threads, one in twenty none (a ticket made by API or a call log).
            ["threadCount"] = (_random.Next(20) == 0 ? 0 : _random.Next(1, 11)).ToString(CultureInfo.InvariantCulture),
            ["commentCount"] = _random.Next(0, 4).ToString(CultureInfo.InvariantCulture),
            ["taskCount"] = "0",
            ["attachmentCount"] = (_random.Next(4) == 0 ? _random.Next(1, 4) : 0).ToString(CultureInfo.InvariantCulture),
            ["approvalCount"] = "0",
            ["timeEntryCount"] = (_random.Next(3) == 0 ? _random.Next(1, 3) : 0).ToString(CultureInfo.InvariantCulture),
            ["followerCount"] = "0",
            ["tagCount"] = (_random.Next(3) == 0 ? _random.Next(1, 3) : 0).ToString(CultureInfo.InvariantCulture),
            ["childTicketCount"] = "0",
            ["sentiment"] = Pick(["POSITIVE", "NEUTRAL", "NEGATIVE"]),
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Cases/dv/{id}",
            ["layoutId"] = "1000000000001",
            ["layoutDetails"] = new JsonObject { ["id"] = "1000000000001", ["layoutName"] = "Default Ticket Layout" },
            ["slaId"] = null,
            ["contractId"] = null,
            ["secondaryContacts"] = new JsonArray(),
            ["sharedDepartments"] = new JsonArray(),
            ["entitySkills"] = new JsonArray(),
            ["source"] = new JsonObject { ["appName"] = null, ["extId"] = null, ["type"] = "SYSTEM", ["permalink"] = null, ["appPhotoURL"] = null },
            ["channelRelatedInfo"] = null,
            ["lastThread"] = new JsonObject { ["channel"] = "EMAIL", ["isDraft"] = false, ["isForward"] = false, ["direction"] = "in" },
            ["relationshipType"] = "None",
            ["cf"] = CustomValues("tickets"),
        };
    }
}
