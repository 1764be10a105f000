namespace DeskSync.Core.Journal;

/// <summary>
/// A durable, ordered log of webhook deliveries, written by the receiver before it answers Zoho and
/// read by the applier: the local segment files (<see cref="DurableJournal"/>, the default) or a
/// replicated JetStream stream. A position names a record; a record's <see cref="JournalRecord.Next"/>
/// is where the one after it starts, and the applier commits that position with the rows.
/// </summary>
public interface IJournal : IAsyncDisposable
{
    /// <summary>This journal's identity: a checkpoint taken from another journal is told apart by it.</summary>
    string Id { get; }

    /// <summary>Where the journal is, as the operator names it (a folder, or a stream on a NATS cluster).</summary>
    string Location { get; }

    /// <summary>Everything before this position is durable (as far as this process has seen).</summary>
    JournalPosition End { get; }

    /// <summary>The oldest position still held.</summary>
    JournalPosition First { get; }

    /// <summary>Bytes accepted and not yet durable (appends past a limit are refused).</summary>
    long PendingBytes { get; }

    /// <summary>Appends a record and completes once it is durable; throws <see cref="JournalUnavailableException"/> when it cannot be.</summary>
    Task<JournalPosition> AppendAsync(byte[] payload, CancellationToken cancellationToken = default);

    /// <summary>Durable records from <paramref name="from"/> to the end as it stands when the read begins.</summary>
    IAsyncEnumerable<JournalRecord> ReadAsync(JournalPosition from, CancellationToken cancellationToken = default);

    /// <summary>Completes when records at or past <paramref name="position"/> are durable.</summary>
    Task WaitForDataAsync(JournalPosition position, CancellationToken cancellationToken);

    /// <summary>Lets go of records before <paramref name="applied"/> (with <paramref name="writtenBefore"/>, only those written before it); the record just before is kept for the checkpoint's check.</summary>
    Task DeleteBeforeAsync(JournalPosition applied, DateTimeOffset? writtenBefore, CancellationToken cancellationToken);

    /// <summary>The journal as a checkpoint is judged against it; <paramref name="recordAt"/> is the record the checkpoint names.</summary>
    Task<JournalView> ViewAsync(JournalPosition? recordAt, CancellationToken cancellationToken);

    /// <summary>Journaled bytes from <paramref name="position"/> to the end (an estimate where the journal is remote); never negative.</summary>
    long BytesAfter(JournalPosition position);

    /// <summary>The first record at or after <paramref name="from"/> when it is at hand without waiting; else null.</summary>
    JournalRecord? Peek(JournalPosition from);
}
