using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// What lies below a ticket (<see cref="EmulatedChildren"/>). A ticket's children are made when
/// first asked for, as many as its count field says, so a portal whose children nobody reads
/// costs nothing. A change to a child moves its ticket's count and modifiedTime, and raises the
/// ticket's own update [G: Zoho documents neither].
/// </summary>
public sealed partial class Portal
{
    private readonly Dictionary<(string Kind, string TicketId), List<JsonObject>> _children = [];

    /// <summary>A ticket's children in the order they were made; null when the ticket does not exist.</summary>
    public IReadOnlyList<JsonObject>? Children(string kind, string ticketId)
    {
        lock (_gate)
        {
            return Materialized(EmulatedChildren.Named(kind)!, ticketId) is { } list ? [.. list] : null;
        }
    }

    public JsonObject? AddChild(string kind, string ticketId, JsonObject? values)
    {
        var child = EmulatedChildren.Named(kind) ?? throw new ArgumentException($"unknown child {kind}", nameof(kind));
        JsonObject record;
        int count;
        lock (_gate)
        {
            if (Materialized(child, ticketId) is not { } list)
            {
                return null;
            }

            record = _generator.NewChild(child, _tables["tickets"].Get(ticketId)!, _time.GetUtcNow(), list.Count);
            Overlay(record, values);
            list.Add(record);
            count = list.Count;
            RecordChildChange(child, ticketId, ChangeKind.Create, record);
        }

        Changed?.Invoke(new PortalChange(kind, ChangeKind.Create, record, null, ticketId));
        TicketChanged(child, ticketId, count);
        return record;
    }

    public JsonObject? UpdateChild(string kind, string ticketId, string id, JsonObject values)
    {
        var child = EmulatedChildren.Named(kind) ?? throw new ArgumentException($"unknown child {kind}", nameof(kind));
        JsonObject previous, record;
        int count;
        lock (_gate)
        {
            if (Materialized(child, ticketId) is not { } list || list.FindIndex(r => r["id"]?.ToString() == id) is var at && at < 0)
            {
                return null;
            }

            previous = list[at];
            record = previous.DeepClone().AsObject();
            Overlay(record, values);
            if (record.ContainsKey("modifiedTime"))
            {
                record["modifiedTime"] = Iso(_time.GetUtcNow());
            }

            list[at] = record;
            count = list.Count;
            RecordChildChange(child, ticketId, ChangeKind.Update, record);
        }

        Changed?.Invoke(new PortalChange(kind, ChangeKind.Update, record, previous, ticketId));
        TicketChanged(child, ticketId, count);
        return record;
    }

    public bool DeleteChild(string kind, string ticketId, string id)
    {
        var child = EmulatedChildren.Named(kind) ?? throw new ArgumentException($"unknown child {kind}", nameof(kind));
        JsonObject removed;
        int count;
        lock (_gate)
        {
            if (Materialized(child, ticketId) is not { } list || list.FindIndex(r => r["id"]?.ToString() == id) is var at && at < 0)
            {
                return false;
            }

            removed = list[at];
            list.RemoveAt(at);
            count = list.Count;
            RecordChildChange(child, ticketId, ChangeKind.Delete, removed);
        }

        Changed?.Invoke(new PortalChange(kind, ChangeKind.Delete, removed, removed, ticketId));
        TicketChanged(child, ticketId, count);
        return true;
    }

    /// <summary>A department's tag catalogue: every tag of the portal with how many of the department's tickets have it; null for no such department.</summary>
    public IReadOnlyList<JsonObject>? TagCatalogue(string departmentId)
    {
        lock (_gate)
        {
            if (_tables["departments"].Get(departmentId) is null)
            {
                return null;
            }

            var kind = EmulatedChildren.Named("tags")!;
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var ticket in _tables["tickets"].Snapshot().Where(t => t["departmentId"]?.ToString() == departmentId))
            {
                foreach (var tag in Materialized(kind, ticket["id"]!.ToString()) ?? [])
                {
                    var id = tag["id"]!.ToString();
                    counts[id] = counts.GetValueOrDefault(id) + 1;
                }
            }

            return [.. _generator.TagCatalogue().Select(t => new JsonObject
            {
                ["id"] = t.Id,
                ["name"] = t.Name,
                ["tagType"] = "MANUAL",
                ["ticketCount"] = counts.GetValueOrDefault(t.Id).ToString(System.Globalization.CultureInfo.InvariantCulture),
            })];
        }
    }

    /// <summary>An attachment's file: as many bytes as its size says, the same every time (drawn from its id).</summary>
    public static byte[] AttachmentContent(JsonObject attachment)
    {
        var size = long.TryParse(attachment["size"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var n) ? (int)Math.Min(n, 64L << 20) : 0;
        var bytes = new byte[size];
        new Random(attachment["id"]!.ToString().Aggregate(17, (h, c) => unchecked((h * 31) + c))).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The stored list of a live ticket's children, made on first use.</summary>
    private List<JsonObject>? Materialized(EmulatedChild child, string ticketId)
    {
        if (_children.TryGetValue((child.Name, ticketId), out var list))
        {
            return _tables["tickets"].Get(ticketId) is null ? null : list;
        }

        if (_tables["tickets"].Get(ticketId) is not { } ticket)
        {
            return null;
        }

        list = _generator.ChildrenOf(child, ticket);
        _children[(child.Name, ticketId)] = list;
        return list;
    }

    private void TicketChanged(EmulatedChild child, string ticketId, int count) =>
        Update("tickets", ticketId, new JsonObject { [child.CountField] = count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
}
