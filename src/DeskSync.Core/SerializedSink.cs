namespace DeskSync.Core;

/// <summary>
/// One writer at a time into a sink shared by readers that run together (the webhook applier and
/// the poller). With <paramref name="mayWrite"/> (a lease), a write is refused once the process no
/// longer holds the right to write, so that at most the write under way when it lost it can
/// overlap the next holder's.
/// </summary>
public sealed class SerializedSink(ISink inner, Func<bool>? mayWrite = null) : ISink
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public SinkMode Mode => inner.Mode;

    public string Describe() => inner.Describe();

    public Task InitializeAsync(CancellationToken cancellationToken) => Locked(() => inner.InitializeAsync(cancellationToken), cancellationToken);

    public Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken) => Locked(() => inner.EnsureTableAsync(schema, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<string>> KeysWrittenBeforeAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken) =>
        Locked(() => inner.KeysWrittenBeforeAsync(table, writtenBefore, cancellationToken), cancellationToken);

    public Task<IReadOnlyCollection<string>?> ChildKeysAsync(TableSchema schema, string parentId, CancellationToken cancellationToken) =>
        Locked(() => inner.ChildKeysAsync(schema, parentId, cancellationToken), cancellationToken);

    public Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken) =>
        Locked(() => Fenced(cancellationToken) ?? inner.ApplyAsync(schema, events, checkpoint, cancellationToken), cancellationToken);

    public Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken) => Locked(() => inner.GetCheckpointAsync(stream, cancellationToken), cancellationToken);

    public Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken) => Locked(() => Fenced(cancellationToken) ?? inner.SaveCheckpointAsync(checkpoint, cancellationToken), cancellationToken);

    /// <summary>
    /// Claims <paramref name="term"/> in the target when it takes lease terms (true), so that its
    /// writes are refused once a later holder claimed it; false: the target cannot fence writes.
    /// </summary>
    public Task<bool> ClaimAsync(Locking.LeaseTerm term, CancellationToken cancellationToken) =>
        Locked(() => Locking.Fence.ClaimAsync(inner, term, cancellationToken), cancellationToken);

    /// <summary>A refused write when the right to write is gone; null when it may go ahead.</summary>
    private Task? Fenced(CancellationToken ct) =>
        mayWrite is null || mayWrite() ? null : Task.FromException(new OperationCanceledException("This process no longer holds the data source's lease: the write was not made.", ct));

    public async ValueTask DisposeAsync()
    {
        // A call under way ends first, so that none overlaps whoever disposes the inner sink next;
        // a call after this one fails (the gate is gone). The inner sink belongs to whoever made it.
        await _gate.WaitAsync(TimeSpan.FromSeconds(30));
        _gate.Dispose();
    }

    private async Task Locked(Func<Task> action, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await action();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<T> Locked<T>(Func<Task<T>> action, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await action();
        }
        finally
        {
            _gate.Release();
        }
    }
}
