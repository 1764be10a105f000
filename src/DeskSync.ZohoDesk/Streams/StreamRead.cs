using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams;

/// <summary>What a stream's reads are given: the client, the stream, the clock, the load's options and the field definitions (read once per run, alongside the first calls).</summary>
public sealed record StreamReading(
    DeskClient Client,
    DeskStream Stream,
    TimeProvider Time,
    SnapshotOptions Options,
    Task<Dictionary<string, IReadOnlyList<JsonElement>>> FieldDefinitions)
{
    /// <summary>Whose calls these are in the call log: the stream's own, or the child stream a parent is walked for.</summary>
    public string Label { get; init; } = Stream.Name;

    /// <summary>The run's shared reads of parents' details for the counts only they carry; none: children whose count is not at hand are listed.</summary>
    public Reads.ParentCounts? Counts { get; init; }
}

/// <summary>
/// How a stream is read: in full (the load, and the id listing that finds deletes) and since a
/// time (polling). Reads produce records and change events; only the caller writes to a target.
/// </summary>
public abstract class StreamRead
{
    /// <summary>How the read goes, in a few words, for `discover`: "search by createdTime", "list", …</summary>
    public abstract string Method { get; }

    /// <summary>Reads the whole table, resuming from the state the last committed batch carried (null: from the start).</summary>
    public abstract IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, CancellationToken ct);

    /// <summary>
    /// The records changed in [since, until] as change events, in batches. A read that
    /// <see cref="PollsEverything"/> yields the whole table, and the caller deletes what it did not list.
    /// </summary>
    public abstract IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, CancellationToken ct);

    /// <summary>A poll reads the whole table (small tables without a time filter): rows it does not list are gone from Zoho.</summary>
    public virtual bool PollsEverything => false;

    /// <summary>Whether listing the table's ids can find deleted rows (field definitions are replaced whole instead).</summary>
    public virtual bool Reconciles => true;

    /// <summary>A poll's change event for a record as Zoho answered it.</summary>
    public static ChangeEvent Polled(DeskStream stream, JsonElement record) =>
        new(ChangeOp.Update, stream.Name, record.GetProperty("id").ToString(), record,
            record.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null, "poll");
}
