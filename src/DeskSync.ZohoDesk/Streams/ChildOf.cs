using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams;

/// <summary>
/// What makes a stream a child of another (Airbyte's HttpSubStream): its records are listed per
/// parent record (GET tickets/{ticketId}/threads), each row carries the parent's id in
/// <see cref="ParentField"/> (indexed in the target), a parent's delete takes its children with it,
/// and a parent that changed has its children read again, those Zoho no longer lists deleted.
/// </summary>
/// <param name="ParentName">The parent stream's name (a name, not the stream: the streams are declared in files whose initialisers run in no set order).</param>
/// <param name="ParentField">The field each child row holds its parent's id in; added to the record when Zoho's answer lacks it.</param>
/// <param name="ListPath">The list's path with {0} for the parent's id.</param>
/// <param name="CountField">The parent's field counting these children (threadCount), when the parent's answer has one: a parent whose count is 0 costs no call.</param>
/// <param name="ItemsKey">The property the list answer holds its items in.</param>
/// <param name="Order">How the list is sorted oldest and newest first: with it, a parent's children past the offset wall are read from the other end.</param>
public sealed record ChildOf(string ParentName, string ParentField, string ListPath, string? CountField, string ItemsKey = "data", ListOrder? Order = null)
{
    public DeskStream Parent => DeskStreams.Find(ParentName) ?? throw new InvalidOperationException($"No stream named {ParentName}.");

    /// <summary>Whether the list takes from/limit; false: one answer holds every child (a ticket's tags).</summary>
    public bool Paged { get; init; } = true;

    /// <summary>
    /// The child's Zoho id is not unique across parents (a tag is on many tickets): the row's id is
    /// "parent:child", and Zoho's id is kept in <see cref="ChildIdField"/>.
    /// </summary>
    public string? ChildIdField { get; init; }

    /// <summary>
    /// The parent's count is in its detail only (a ticket's attachmentCount, timeEntryCount,
    /// tagCount), not in the search answers a load and a poll walk: one detail call per parent,
    /// shared by every child stream that needs it (<see cref="Reads.ParentCounts"/>), tells which
    /// kinds to list.
    /// </summary>
    public bool CountInDetailOnly { get; init; }

    /// <summary>
    /// The child has no id (a history entry): its row id is "parent:time:hash" — the parent's id,
    /// this field's time in epoch milliseconds, and a hash of the entry as Zoho answered it — and
    /// entries alike in every byte within one listing are told apart by a count.
    /// </summary>
    public string? KeyTimeField { get; init; }

    /// <summary>The path of one child with what its list leaves out ({0} the parent's id, {1} the child's), when there is one: a thread's content.</summary>
    public string? DetailPath { get; init; }

    /// <summary>The fields the detail adds to a listed child (content): they are read once per child, and kept when the child is listed again.</summary>
    public IReadOnlyList<string> DetailFields { get; init; } = [];

    /// <summary>The webhook events that carry one child whole (Ticket_Thread_Add): applied from their payload.</summary>
    public IReadOnlyList<string> Events { get; init; } = [];

    /// <summary>
    /// Whether a parent's count of these children, when it matches the rows the target holds,
    /// shows nothing is missing: true when Zoho sends events for both adds and updates (comments),
    /// so that only a delete — which moves the count — goes unannounced. A thread's update has no
    /// event, so threads are listed again whatever the count.
    /// </summary>
    public bool CountShowsChanges => CountField is not null && Events.Any(e => e.EndsWith("_Add", StringComparison.Ordinal)) && Events.Any(e => e.EndsWith("_Update", StringComparison.Ordinal));

    public string DetailPathOf(string parentId, string id) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, DetailPath!, Uri.EscapeDataString(parentId), Uri.EscapeDataString(id));

    /// <summary>Whether a record lacks a field only the detail has (a payload or list item without the content).</summary>
    public bool LacksDetail(JsonElement record) => DetailPath is not null && DetailFields.Any(f => !record.TryGetProperty(f, out _));

    public string PathOf(string parentId) => string.Format(System.Globalization.CultureInfo.InvariantCulture, ListPath, Uri.EscapeDataString(parentId));

    /// <summary>How many children the parent record says it has; null when it does not say (then its children are listed).</summary>
    public long? CountIn(JsonElement parent) =>
        CountField is not null && parent.TryGetProperty(CountField, out var count) && ValueConverter.Convert(count, ColumnType.Integer) is long n ? n : null;
}

/// <summary>A list's sort parameter and its values for oldest and newest first (sortBy=sendDateTime / -sendDateTime).</summary>
public sealed record ListOrder(string Parameter, string Ascending, string Descending)
{
    public KeyValuePair<string, string?> Oldest => new(Parameter, Ascending);

    public KeyValuePair<string, string?> Newest => new(Parameter, Descending);
}
