using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.ZohoDesk.Webhooks;

public enum EventAction
{
    /// <summary>Apply the payload (a create, an update merged into the row, or a delete).</summary>
    Apply,

    /// <summary>The payload is too thin to trust: read the record by id and apply that.</summary>
    Reread,

    /// <summary>Not a table DeskSync replicates (articles, instant messages…).</summary>
    Ignore,

    /// <summary>The record's parent (the change's key) changed: list its children in this child table again, deleting those no longer listed.</summary>
    RereadChildren,
}

public sealed record MappedEvent(EventAction Action, DeskStream? Table, ChangeEvent? Change, string? Reason = null);

/// <summary>
/// Zoho Desk webhook events to change events. An event's prefix (Ticket in Ticket_Add) names the
/// stream that declared it (<see cref="StreamEvents"/>; Contacts are not Contracts). *_Delete, and any payload
/// whose deleted flag is set (isDeleted, isTrashed, IsDel), is a delete. Updates carry only some
/// fields at times, so they are merged into the row; an event without modifiedTime cannot be
/// ordered and is re-read. One ordering rule for every kind: an event is ordered by the record's
/// own modifiedTime when its payload carries one, else by the event's time — the record's time is
/// the one the full load and polling compare with, so a webhook and a poll of the same version agree. Thread, comment, attachment and approval events change their ticket:
/// the ticket is re-read; so is the record a workflow-rule call names (*_Refresh).
/// </summary>
public static class WebhookEventMapper
{
    private static readonly string[] DeletedFlags = ["isDeleted", "isTrashed", "IsDel", "isDel"];

    /// <summary>
    /// Everything an event changes: the record it names (<see cref="Map"/>), then its children —
    /// a child event's own row from its payload, a parent's children read again when the parent
    /// changed (Zoho sends no event for a thread's or an attachment's delete, nor for time
    /// entries), or deleted with it.
    /// </summary>
    public static IReadOnlyList<MappedEvent> MapAll(WebhookEvent e)
    {
        var main = Map(e);
        if (main.Table is null || main.Change is not { } change)
        {
            return [main];
        }

        if (DeskStreams.ByChildEvent(e.EventType) is { } childStream)
        {
            return [main, ChildFromPayload(e, childStream, change.Key)];
        }

        var children = DeskStreams.ChildrenOf(main.Table);
        if (children.Count == 0 || e.EventType.Count(c => c == '_') > 1)
        {
            return [main];
        }

        var result = new List<MappedEvent>(children.Count + 1) { main };
        foreach (var child in children)
        {
            result.Add(change.Op == ChangeOp.Delete
                ? new MappedEvent(EventAction.Apply, child, new ChangeEvent(ChangeOp.Delete, child.Name, change.Key, null, change.ModifiedTime, "webhook") { Scope = ParentScope.All })
                : new MappedEvent(EventAction.RereadChildren, child, new ChangeEvent(ChangeOp.Update, child.Name, change.Key, change.Record, change.ModifiedTime, "webhook")));
        }

        return result;
    }

    /// <summary>A child event's own row (Ticket_Thread_Add's thread): its payload is the child whole.</summary>
    private static MappedEvent ChildFromPayload(WebhookEvent e, DeskStream child, string parentId)
    {
        if (!e.Payload.TryGetProperty("id", out var id) || id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
        {
            return new MappedEvent(EventAction.Ignore, child, null, $"{e.EventType} carries no {child.DisplayName.ToLowerInvariant()} id");
        }

        var record = Streams.Reads.ChildRead.Row(child.Parent!, e.Payload, parentId);
        var modified = e.Payload.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null;
        var op = e.EventType.EndsWith("_Add", StringComparison.Ordinal) ? ChangeOp.Create : ChangeOp.Update;
        var change = new ChangeEvent(op, child.Name, record.GetProperty("id").ToString(), record, OrderingTime(modified, e), "webhook");
        // A payload without what only the child's detail has (a thread's content) is completed by one read.
        return new MappedEvent(child.Parent!.LacksDetail(record) ? EventAction.Reread : EventAction.Apply, child, change);
    }

    public static MappedEvent Map(WebhookEvent e)
    {
        var parts = e.EventType.Split('_');
        if (DeskStreams.ByEventModule(parts[0]) is not { } table)
        {
            return new MappedEvent(EventAction.Ignore, null, null, $"{e.EventType} is not about a replicated table");
        }

        var action = parts[^1];
        var isChild = parts.Length > 2; // Ticket_Thread_Add, Ticket_Comment_Update, …
        var idElement = isChild
            ? (e.Payload.TryGetProperty("ticketId", out var t) ? t : e.Payload.TryGetProperty("entityId", out var en) ? en : default)
            : (e.Payload.TryGetProperty("id", out var i) ? i : default);
        var key = idElement.ValueKind switch
        {
            JsonValueKind.String => idElement.GetString(),
            JsonValueKind.Number => idElement.GetRawText(),
            _ => null,
        };
        if (string.IsNullOrEmpty(key))
        {
            return new MappedEvent(EventAction.Ignore, table, null, $"{e.EventType} carries no record id");
        }

        var modified = e.Payload.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null;
        if (isChild || action == "Refresh")
        {
            // A child record changed its ticket, or a workflow rule named a record: read it as it is now.
            return new MappedEvent(EventAction.Reread, table, new ChangeEvent(ChangeOp.Update, table.Name, key, null, e.EventTime, "webhook"));
        }

        if (action == "Delete" || DeletedFlags.Any(f => IsTrue(e.Payload, f)))
        {
            return new MappedEvent(EventAction.Apply, table, new ChangeEvent(ChangeOp.Delete, table.Name, key, e.Payload, OrderingTime(modified, e), "webhook"));
        }

        var op = action == "Add" ? ChangeOp.Create : ChangeOp.Update;
        if (modified is null && table.HasModifiedTime)
        {
            // Cannot be ordered against what the table holds: read the record as it is now.
            return new MappedEvent(EventAction.Reread, table, new ChangeEvent(op, table.Name, key, null, e.EventTime, "webhook"));
        }

        var change = new ChangeEvent(op, table.Name, key, e.Payload, OrderingTime(modified, e), "webhook") { IsPartial = op == ChangeOp.Update };
        return new MappedEvent(EventAction.Apply, table, change);
    }

    /// <summary>The one ordering rule: the record's modifiedTime when the payload carries it, else the event's time.</summary>
    public static DateTimeOffset? OrderingTime(DateTimeOffset? modified, WebhookEvent e) => modified ?? e.EventTime;

    private static bool IsTrue(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var v) && (v.ValueKind == JsonValueKind.True || (v.ValueKind == JsonValueKind.String && string.Equals(v.GetString(), "true", StringComparison.OrdinalIgnoreCase)));
}
