using System.Globalization;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>A ticket's conversation and the rest below it: threads (the first is the description), comments, attachments and time entries, spread between the ticket's creation and its last change.</summary>
internal sealed partial class PortalGenerator
{
    private static readonly string[] Sentences =
    [
        "The device stops charging after an hour", "I was billed twice this month", "Thanks, that fixed it",
        "Could you send the invoice again", "We replaced the adapter under warranty", "Please try a factory reset",
    ];

    /// <summary>The children a ticket's count field says it has, made when they are first asked for.</summary>
    public List<JsonObject> ChildrenOf(EmulatedChild child, JsonObject ticket)
    {
        var count = int.TryParse(ticket[child.CountField]?.ToString(), CultureInfo.InvariantCulture, out var n) ? n : 0;
        var created = Portal.ParseTime(ticket["createdTime"]?.ToString()) ?? _now;
        var modified = Portal.ParseTime(ticket["modifiedTime"]?.ToString()) ?? created;
        // A ticket answered within its first hour when it never changed after its creation, so that replies come after the question.
        var span = Math.Max(1, (modified > created ? modified - created : TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks, Math.Max(0, (_now - created).Ticks)))).Ticks);
        var list = new List<JsonObject>(count);
        for (var i = 0; i < count; i++)
        {
            // Evenly spread and in order, so that a list sorted by time is the order they were made in.
            list.Add(NewChild(child, ticket, created + TimeSpan.FromTicks(span * i / Math.Max(1, count)), i));
        }

        return list;
    }

    public JsonObject NewChild(EmulatedChild child, JsonObject ticket, DateTimeOffset at, int index) => child.Name switch
    {
        "threads" => Thread(ticket, at, index),
        "comments" => Comment(at),
        "attachments" => Attachment(ticket, at),
        "timeEntries" => TimeEntry(ticket, at),
        "tags" => Tag(ticket, index),
        _ => throw new ArgumentException($"unknown child {child.Name}", nameof(child)),
    };

    private JsonObject Thread(JsonObject ticket, DateTimeOffset at, int index)
    {
        var id = NextId();
        var incoming = index == 0 || _random.Next(2) == 0;
        var text = Pick(Sentences);
        var contact = ticket["email"]?.ToString() ?? "customer@example.com";
        return new JsonObject
        {
            ["id"] = id,
            ["channel"] = "EMAIL",
            ["direction"] = incoming ? "in" : "out",
            ["status"] = "SUCCESS",
            ["visibility"] = "public",
            ["isDescriptionThread"] = index == 0,
            ["canReply"] = true,
            ["hasAttach"] = false,
            ["attachmentCount"] = "0",
            ["attachmentIds"] = new JsonArray(),
            ["respondedIn"] = incoming ? null : "00:" + _random.Next(10, 59).ToString(CultureInfo.InvariantCulture) + ":00",
            ["createdTime"] = Portal.Iso(at),
            ["contentType"] = "text/html",
            ["summary"] = text,
            ["content"] = $"<div>{text}.<br>Ticket {ticket["ticketNumber"]}, message {index + 1}.</div>",
            ["fromEmailAddress"] = incoming ? contact : "support@example.com",
            ["to"] = incoming ? "support@example.com" : contact,
            ["cc"] = "",
            ["bcc"] = "",
            ["replyTo"] = null,
            ["isForward"] = false,
            ["sentiment"] = Pick(["POSITIVE", "NEUTRAL", "NEGATIVE"]),
            ["keyWords"] = new JsonArray(),
            ["aspects"] = new JsonArray(),
            ["author"] = Person(incoming ? "END_USER" : "AGENT", incoming ? contact : "support@example.com"),
            ["source"] = new JsonObject { ["appName"] = null, ["extId"] = null, ["type"] = "SYSTEM", ["permalink"] = null, ["appPhotoURL"] = null },
            ["channelRelatedInfo"] = null,
            ["impersonatedUser"] = null,
            ["lastRatingIconURL"] = null,
            ["readReceipts"] = new JsonArray(),
            ["actions"] = new JsonArray(),
            ["responderId"] = incoming ? null : Id(PickRecord("agents")),
            ["attachments"] = new JsonArray(),
            ["fullContentURL"] = $"https://desk.zoho.com/api/v1/tickets/{ticket["id"]}/threads/{id}/originalContent",
            ["isContentTruncated"] = false,
        };
    }

    private JsonObject Comment(DateTimeOffset at)
    {
        var agent = PickRecord("agents");
        var text = Pick(Sentences);
        return new JsonObject
        {
            ["id"] = NextId(),
            ["content"] = $"<div>{text}</div>",
            ["encodedContent"] = $"&lt;div&gt;{text}&lt;/div&gt;",
            ["contentType"] = "html",
            ["isPublic"] = _random.Next(3) == 0,
            ["commenterId"] = Id(agent),
            ["commenter"] = Agent(agent, "AGENT"),
            ["impersonatedUser"] = null,
            ["attachments"] = new JsonArray(),
            ["commentedTime"] = Portal.Iso(at),
            ["modifiedTime"] = Portal.Iso(at),
        };
    }

    private JsonObject Attachment(JsonObject ticket, DateTimeOffset at)
    {
        var id = NextId();
        var agent = PickRecord("agents");
        return new JsonObject
        {
            ["id"] = id,
            ["name"] = Pick(["screenshot.png", "invoice.pdf", "log.txt", "photo.jpg"]),
            ["size"] = _random.Next(1_000, 2_000_000).ToString(CultureInfo.InvariantCulture),
            ["isPublic"] = true,
            ["creatorId"] = Id(agent),
            ["creator"] = Agent(agent, "AGENT"),
            ["createdTime"] = Portal.Iso(at),
            ["href"] = $"https://desk.zoho.com/api/v1/tickets/{ticket["id"]}/attachments/{id}/content",
            ["previewurl"] = $"https://desk.zoho.com/api/v1/tickets/{ticket["id"]}/attachments/{id}/content?inline=true",
        };
    }

    private JsonObject TimeEntry(JsonObject ticket, DateTimeOffset at)
    {
        var agent = PickRecord("agents");
        var minutes = _random.Next(5, 240);
        return new JsonObject
        {
            ["id"] = NextId(),
            ["requestId"] = ticket["id"]?.DeepClone(),
            ["parent"] = new JsonObject { ["id"] = ticket["id"]?.DeepClone(), ["ticketNumber"] = ticket["ticketNumber"]?.DeepClone(), ["subject"] = ticket["subject"]?.DeepClone(), ["type"] = "TICKETS" },
            ["executedTime"] = Portal.Iso(at),
            ["description"] = "Investigated and replied",
            ["ownerId"] = Id(agent),
            ["owner"] = new JsonObject { ["id"] = Id(agent), ["firstName"] = agent?["firstName"]?.DeepClone(), ["lastName"] = agent?["lastName"]?.DeepClone(), ["name"] = agent?["name"]?.DeepClone(), ["photoURL"] = null },
            ["mode"] = "MANUAL",
            ["billingType"] = "SPECIFIC_COST_PER_AGENT",
            ["isBillable"] = _random.Next(2) == 0,
            ["isTrashed"] = false,
            ["hoursSpent"] = (minutes / 60).ToString(CultureInfo.InvariantCulture),
            ["minutesSpent"] = (minutes % 60).ToString(CultureInfo.InvariantCulture),
            ["secondsSpent"] = "0",
            ["createdTime"] = Portal.Iso(at),
            ["createdBy"] = Id(agent),
            ["departmentId"] = ticket["departmentId"]?.DeepClone(),
            ["agentCostPerHour"] = "40.00",
            ["additionalCost"] = "0.00",
            ["fixedCost"] = "0.00",
            ["totalCost"] = (minutes * 40 / 60.0).ToString("0.00", CultureInfo.InvariantCulture),
            ["invoiceId"] = null,
            ["taskId"] = null,
            ["requestChargeType"] = "Customer Service",
            ["layoutId"] = "1000000000009",
            ["layoutDetails"] = new JsonObject { ["id"] = "1000000000009", ["layoutName"] = "Default Time Entry Layout" },
            ["cf"] = new JsonObject { ["cf_work_type"] = Pick(["Remote", "On site"]) },
            ["customFields"] = new JsonObject { ["Work type"] = null },
        };
    }

    private static readonly string[] TagNames = ["billing", "hardware", "urgent", "refund", "vip", "follow-up", "bug", "how-to"];

    /// <summary>A tag of the portal's catalogue (the same id on every ticket it is on), a different one for each of a ticket's tags.</summary>
    private JsonObject Tag(JsonObject ticket, int index)
    {
        var start = (int)(long.Parse(ticket["id"]!.ToString(), CultureInfo.InvariantCulture) % TagNames.Length);
        var name = TagNames[(start + index) % TagNames.Length];
        if (!_tagIds.TryGetValue(name, out var id))
        {
            _tagIds[name] = id = NextId();
        }

        return new JsonObject { ["id"] = id, ["name"] = name, ["tagType"] = "MANUAL" };
    }

    private readonly Dictionary<string, string> _tagIds = new(StringComparer.Ordinal);

    /// <summary>Every tag of the portal's catalogue, oldest first, each with its id (made when first needed).</summary>
    public List<(string Id, string Name)> TagCatalogue()
    {
        foreach (var name in TagNames.Where(n => !_tagIds.ContainsKey(n)))
        {
            _tagIds[name] = NextId();
        }

        return [.. TagNames.Select(n => (_tagIds[n], n))];
    }

    private static JsonObject Person(string type, string email) => new()
    {
        ["id"] = null,
        ["name"] = email.Split('@')[0],
        ["firstName"] = email.Split('@')[0],
        ["lastName"] = "",
        ["email"] = email,
        ["photoURL"] = null,
        ["type"] = type,
    };

    private static JsonObject Agent(JsonObject? agent, string type) => new()
    {
        ["id"] = Id(agent),
        ["name"] = agent?["name"]?.DeepClone(),
        ["firstName"] = agent?["firstName"]?.DeepClone(),
        ["lastName"] = agent?["lastName"]?.DeepClone(),
        ["email"] = agent?["emailId"]?.DeepClone(),
        ["photoURL"] = null,
        ["roleName"] = "Agent",
        ["type"] = type,
    };
}
