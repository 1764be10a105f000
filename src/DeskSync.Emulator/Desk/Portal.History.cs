using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// A ticket's history, made when first asked for (<see cref="PortalGenerator.HistoryOf"/>); from
/// then on every change to the ticket's tracked fields and below it adds an entry. Entries are
/// never changed or removed; they go with their ticket.
/// </summary>
public sealed partial class Portal
{
    private readonly Dictionary<string, List<JsonObject>> _history = new(StringComparer.Ordinal);

    /// <summary>A live ticket's history, oldest first; null when the ticket does not exist.</summary>
    public IReadOnlyList<JsonObject>? History(string ticketId)
    {
        lock (_gate)
        {
            return HistoryList(ticketId) is { } list ? [.. list] : null;
        }
    }

    private List<JsonObject>? HistoryList(string ticketId)
    {
        if (_tables["tickets"].Get(ticketId) is not { } ticket)
        {
            return null;
        }

        if (!_history.TryGetValue(ticketId, out var list))
        {
            _history[ticketId] = list = _generator.HistoryOf(ticket);
        }

        return list;
    }

    /// <summary>Under the gate: a ticket's change, in its history once that history exists (a later first read makes it from the ticket as it is then).</summary>
    private void RecordTicketChange(JsonObject previous, JsonObject ticket)
    {
        if (_history.TryGetValue(ticket["id"]!.ToString(), out var list)
            && _generator.TicketUpdated(previous, ticket, ParseTime(ticket["modifiedTime"]?.ToString()) ?? _time.GetUtcNow()) is { } entry)
        {
            list.Add(entry);
        }
    }

    /// <summary>Under the gate: a change below a ticket (ThreadAdded, CommentDeleted …), in its history once that exists.</summary>
    private void RecordChildChange(EmulatedChild child, string ticketId, ChangeKind kind, JsonObject record)
    {
        var eventName = kind switch
        {
            ChangeKind.Create => child.HistoryEvents.Added,
            ChangeKind.Update => child.HistoryEvents.Updated,
            _ => child.HistoryEvents.Deleted,
        };
        if (eventName is not null && _history.TryGetValue(ticketId, out var list) && _tables["tickets"].Get(ticketId) is { } ticket)
        {
            list.Add(_generator.ChildChanged(eventName, ticket, record, _time.GetUtcNow()));
        }
    }
}
