using System.Text.Json;
using System.Text.Json.Serialization;
using DeskSync.Core;
using DeskSync.Core.Journal;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Where the applier stands in the journal, committed with the rows it applied: the journal's id,
/// the position of the next event (segment, offset, index in its delivery), the record it was
/// taken after (its start and CRC-32, so that a journal restored from an older copy, or replaced
/// by another with the same id, is told apart) and the newest event time applied, from which
/// a catch-up or a re-baseline reads Zoho. The one owner of this format: `status` reads it here.
/// </summary>
public sealed record JournalCheckpoint(
    [property: JsonPropertyName("journal")] string? JournalId,
    [property: JsonPropertyName("segment")] long Segment,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("atSegment")] long? AtSegment = null,
    [property: JsonPropertyName("at")] long? At = null,
    [property: JsonPropertyName("crc")] uint? Crc = null,
    [property: JsonPropertyName("through")] DateTimeOffset? Through = null)
{
    public const string Stream = "webhooks/journal";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public JournalPosition Position => new(Segment, Offset);

    /// <summary>Where the record this checkpoint was taken after starts, when it names one.</summary>
    [JsonIgnore]
    public JournalPosition? RecordAt => At is { } at ? new JournalPosition(AtSegment ?? Segment, at) : null;

    public static JournalCheckpoint Start(string journalId, long firstSegment = 1) => new(journalId, firstSegment, 0, 0);

    public static async Task<JournalCheckpoint?> ReadAsync(ISink sink, CancellationToken ct) =>
        await sink.GetCheckpointAsync(Stream, ct) is { } saved ? Parse(saved.State) : null;

    public static JournalCheckpoint Parse(string state) =>
        JsonSerializer.Deserialize<JournalCheckpoint>(state, Json) ?? throw new JsonException("The journal checkpoint is empty.");

    public Checkpoint ToCheckpoint() => new(Stream, JsonSerializer.Serialize(this, Json));

    /// <summary>Why this checkpoint cannot have been taken from <paramref name="journal"/>, or null when it can.</summary>
    public string? MismatchWith(JournalView journal)
    {
        if (JournalId is not null && journal.Id is not null && JournalId != journal.Id)
        {
            return $"the target's checkpoint was taken from journal {JournalId}, but {journal.Directory} holds journal {journal.Id} (the journal was lost, replaced or moved)";
        }

        if (Position > journal.End)
        {
            return $"the target has applied the journal up to {Position}, but the journal in {journal.Directory} ends at {journal.End} (it was restored from an older copy, or cut)";
        }

        if (Position.Segment < journal.FirstSegment && journal.End > new JournalPosition(journal.FirstSegment, 0))
        {
            return $"the target stands in journal segment {Segment}, but the journal in {journal.Directory} starts at segment {journal.FirstSegment} (segments that were never applied are missing)";
        }

        if (At is { } at && Crc is { } crc && !journal.HasRecord(new JournalPosition(AtSegment ?? Segment, at), crc))
        {
            return $"the record the target's checkpoint was taken after is not in the journal in {journal.Directory} (it was restored from another copy)";
        }

        return null;
    }

    /// <summary>Throws, before anything is applied or skipped, when this checkpoint was not taken from <paramref name="journal"/>.</summary>
    public void EnsureTakenFrom(JournalView journal)
    {
        if (MismatchWith(journal) is { } mismatch)
        {
            throw new JournalDamagedException($"The journal does not match the target: {mismatch}. Nothing was applied or skipped. Run `desksync journal rebaseline` (with `run` stopped): it reads from Zoho what changed since the last applied event{(Through is { } t ? $" ({t:yyyy-MM-dd HH:mm:ss} UTC)" : "")}, and starts the target on a new journal.");
        }
    }
}
