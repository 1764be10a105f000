using System.Text.Json;

namespace DeskSync.Core;

/// <summary>Debezium's op codes: r = read by a snapshot, c = create, u = update, d = delete.</summary>
public enum ChangeOp
{
    Read,
    Create,
    Update,
    Delete,
}

/// <summary>
/// The one kind of record that flows from readers to sinks. <see cref="Record"/> is the Zoho
/// record (null for a delete that carries only the key). <see cref="ModifiedTime"/> orders
/// versions of a row (for a delete: when it happened).
/// </summary>
public sealed record ChangeEvent(ChangeOp Op, string Table, string Key, JsonElement? Record, DateTimeOffset? ModifiedTime, string Source)
{
    /// <summary>The record carries only some fields (a webhook's thin payload): merge it into the
    /// stored row instead of replacing the row, so that fields it lacks are kept.</summary>
    public bool IsPartial { get; init; }

    /// <summary>
    /// For a delete: the rows it removes are a parent's children rather than one row. <see cref="Key"/>
    /// is then the parent's id, and every row of the table whose parent column holds it goes,
    /// except those <see cref="ParentScope.Keep"/> names (the children Zoho still lists).
    /// </summary>
    public ParentScope? Scope { get; init; }

    /// <summary>
    /// For a record Zoho listed just now (a parent's children read again): when the listing began.
    /// The row existed then, so a delete remembered from before it no longer holds the row back —
    /// a ticket restored from the recycle bin brings its children again, though none of them
    /// changed since the ticket's delete took them.
    /// </summary>
    public DateTimeOffset? ListedAt { get; init; }
}

/// <summary>
/// A delete of a parent's children: the cascade of a parent's delete (nothing kept), or the
/// children a re-read of the parent no longer lists. A re-read's delete leaves the rows written
/// since its listing began (<paramref name="WrittenBefore"/>): a newer event wrote them, which the
/// listing could not have seen.
/// </summary>
public sealed record ParentScope(IReadOnlyCollection<string> Keep, DateTimeOffset? WrittenBefore = null)
{
    public static ParentScope All { get; } = new([]);
}

/// <summary>What a delete does to the row.</summary>
public enum DeleteMode
{
    /// <summary>The row is removed (a tombstone remembers the delete, so a late older event cannot bring it back).</summary>
    Hard,

    /// <summary>The row stays with _deleted_at set.</summary>
    Soft,
}
