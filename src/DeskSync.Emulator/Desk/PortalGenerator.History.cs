using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// A ticket's history (Zoho's web page on GET /tickets/{id}/History): its creation, its first
/// assignment and, for a ticket changed since, the status it moved to. Changes made through the
/// emulator afterwards add their own entries (<see cref="Portal"/>).
/// </summary>
internal sealed partial class PortalGenerator
{
    /// <summary>Ticket fields whose changes the history shows, with the names Zoho's history gives them.</summary>
    public static readonly IReadOnlyList<(string Field, string Name)> HistoryFields =
    [
        ("status", "Status"), ("priority", "Priority"), ("subject", "Subject"), ("dueDate", "Due Date"),
        ("assigneeId", "Ticket Owner"), ("departmentId", "Department"), ("category", "Category"),
    ];

    /// <summary>The entries of a ticket that existed before the emulator was asked for them, oldest first.</summary>
    public List<JsonObject> HistoryOf(JsonObject ticket)
    {
        var created = Portal.ParseTime(ticket["createdTime"]?.ToString()) ?? _now;
        var modified = Portal.ParseTime(ticket["modifiedTime"]?.ToString()) ?? created;
        var contact = new JsonObject { ["id"] = ticket["contactId"]?.DeepClone(), ["name"] = ticket["email"]?.ToString().Split('@')[0], ["type"] = "Contact" };
        var entries = new List<JsonObject>
        {
            Entry("TicketCreated", created, contact, "Email",
            [
                Property("Subject", "Text", ticket["subject"]?.DeepClone()),
                Property("Status", "Text", "Open"),
                Property("Priority", "Text", ticket["priority"]?.DeepClone()),
                Property("Department", "Entity", new JsonObject { ["id"] = ticket["departmentId"]?.DeepClone(), ["name"] = "Support", ["type"] = "Department" }),
            ]),
        };

        if (ticket["assigneeId"]?.ToString() is { Length: > 0 } assignee)
        {
            // Assigned by round robin a minute after it came in (or when it was last changed, if sooner).
            var at = Min(created + TimeSpan.FromMinutes(1), modified);
            entries.Add(Entry("TicketUpdated", at, new JsonObject { ["id"] = null, ["name"] = "Round Robin", ["type"] = "RoundRobinAssignment" }, null,
                [Property("Ticket Owner", "ValueTransition", Transition(null, AgentEntity(assignee)))]));
        }

        if (ticket["status"]?.ToString() is { } status && status != "Open" && modified > created)
        {
            entries.Add(Entry("TicketUpdated", modified, Actor(ticket), null, [Property("Status", "ValueTransition", Transition("Open", status))]));
        }

        return entries;
    }

    /// <summary>The entry a change to a ticket's tracked fields makes, or null when none of them changed.</summary>
    public JsonObject? TicketUpdated(JsonObject previous, JsonObject ticket, DateTimeOffset at)
    {
        var changes = new List<JsonNode?>();
        foreach (var (field, name) in HistoryFields)
        {
            var before = previous[field]?.ToString();
            var after = ticket[field]?.ToString();
            if (before != after)
            {
                changes.Add(field == "assigneeId"
                    ? Property(name, "ValueTransition", Transition(before is null ? null : AgentEntity(before), after is null ? null : AgentEntity(after)))
                    : Property(name, "ValueTransition", Transition(before, after)));
            }
        }

        return changes.Count == 0 ? null : Entry("TicketUpdated", at, Actor(ticket), null, [.. changes]);
    }

    /// <summary>The entry a change below the ticket makes: ThreadAdded, CommentEdited, AttachmentDeleted, TimeEntryAdded, TagsAdded …</summary>
    public JsonObject ChildChanged(string eventName, JsonObject ticket, JsonObject child, DateTimeOffset at) =>
        Entry(eventName, at, Actor(ticket), null, [Property("Id", "Text", child["id"]?.DeepClone())]);

    private static JsonObject Entry(string name, DateTimeOffset at, JsonObject actor, string? source, JsonNode?[] info) => new()
    {
        ["eventName"] = name,
        ["eventTime"] = Portal.Iso(at),
        ["actor"] = actor,
        ["source"] = source,
        ["eventInfo"] = new JsonArray(info),
        ["actorInfo"] = new JsonArray(),
    };

    private static JsonObject Property(string name, string type, JsonNode? value) => new()
    {
        ["propertyName"] = name,
        ["propertyType"] = type,
        ["systemProperty"] = true,
        ["propertyValue"] = value,
    };

    private static JsonObject Transition(JsonNode? before, JsonNode? after) => new() { ["previousValue"] = before, ["updatedValue"] = after };

    private JsonObject AgentEntity(string agentId) => new()
    {
        ["id"] = agentId,
        ["name"] = _portal.Get("agents", agentId)?["name"]?.DeepClone(),
        ["type"] = "Agent",
    };

    /// <summary>Who acts on a ticket: its owner, or else the portal's first agent.</summary>
    private JsonObject Actor(JsonObject ticket)
    {
        var id = ticket["assigneeId"]?.ToString() is { Length: > 0 } assignee ? assignee : _portal.List("agents").FirstOrDefault()?["id"]?.ToString();
        return id is null ? new JsonObject { ["id"] = null, ["name"] = "System", ["type"] = "System" } : AgentEntity(id);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
