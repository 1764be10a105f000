namespace DeskSync.Core;

/// <summary>
/// A target database or file set. Writes are idempotent (upsert by id; a record older than the
/// stored row, by modifiedTime, does not overwrite it) and a batch's rows and its checkpoint are
/// committed together.
/// </summary>
public interface ISink : IAsyncDisposable
{
    SinkMode Mode { get; }

    /// <summary>A short description for progress output, without secrets.</summary>
    string Describe();

    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Creates the table, or adds the columns it lacks (never drops one). A column whose
    /// Zoho type changed keeps its type in the target and is reported.</summary>
    Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken);

    /// <summary>Keys of the live rows not written since <paramref name="writtenBefore"/> (for delete
    /// reconciliation); NotSupportedException for targets that are change logs.</summary>
    Task<IReadOnlyList<string>> KeysWrittenBeforeAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken);

    /// <summary>The keys of a child table's live rows that belong to a parent; null when the target cannot tell (a change log).</summary>
    Task<IReadOnlyCollection<string>?> ChildKeysAsync(TableSchema schema, string parentId, CancellationToken cancellationToken);

    /// <summary>Applies the events and stores the checkpoint (if any) in one transaction.</summary>
    Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken);

    Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken);

    /// <summary>Stores a checkpoint on its own (no rows).</summary>
    Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken);
}

/// <summary>An opaque per-stream state (Airbyte's STATE message): JSON the reader understands.</summary>
public sealed record Checkpoint(string Stream, string State);

/// <summary>What EnsureTableAsync changed or noticed.</summary>
public sealed record SchemaChanges(IReadOnlyList<string> AddedColumns, IReadOnlyList<string> TypeChanges)
{
    public static SchemaChanges None { get; } = new([], []);

    public bool Any => AddedColumns.Count > 0 || TypeChanges.Count > 0;
}
