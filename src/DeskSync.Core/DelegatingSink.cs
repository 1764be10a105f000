namespace DeskSync.Core;

/// <summary>
/// A sink that passes every call to another (as <c>DelegatingHandler</c> does for HTTP): derive
/// from it to watch or change one call, such as <see cref="ApplyAsync"/>, and leave the rest.
/// Disposing it disposes the inner sink.
/// </summary>
public abstract class DelegatingSink(ISink inner) : ISink
{
    public ISink Inner => inner;

    public virtual SinkMode Mode => inner.Mode;

    public virtual string Describe() => inner.Describe();

    public virtual Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public virtual Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken) => inner.EnsureTableAsync(schema, cancellationToken);

    public virtual Task<IReadOnlyList<string>> KeysWrittenBeforeAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken) =>
        inner.KeysWrittenBeforeAsync(table, writtenBefore, cancellationToken);

    public virtual Task<IReadOnlyCollection<string>?> ChildKeysAsync(TableSchema schema, string parentId, CancellationToken cancellationToken) =>
        inner.ChildKeysAsync(schema, parentId, cancellationToken);

    public virtual Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken) =>
        inner.ApplyAsync(schema, events, checkpoint, cancellationToken);

    public virtual Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken) => inner.GetCheckpointAsync(stream, cancellationToken);

    public virtual Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken) => inner.SaveCheckpointAsync(checkpoint, cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return inner.DisposeAsync();
    }
}
