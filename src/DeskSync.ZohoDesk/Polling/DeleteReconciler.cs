using DeskSync.Core;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Polling;

public sealed record ReconcileOptions
{
    /// <summary>Refuse to delete more than this share of a table's rows in one run (a safety net against a listing that came back short without an error).</summary>
    public double MaxDeleteShare { get; init; } = 0.5;

    public bool Force { get; init; }
}

public sealed record ReconcileResult(DeskStream Table, long ZohoRows, long Deleted, long Calls, long Credits, string? Message = null);

/// <summary>
/// Finds rows Zoho no longer has: lists every id of a table (the same cursor reads as the full
/// load, so past the 5,000 wall too) and deletes (or marks) the target's rows that are missing and
/// were not written since the listing began. If any page fails, nothing is deleted. A deleted
/// parent's children go with it (in the child tables being reconciled alongside).
/// </summary>
public sealed class DeleteReconciler(DeskClient client, ISink sink, ReconcileOptions? options = null, TimeProvider? time = null)
{
    private readonly ReconcileOptions _options = options ?? new ReconcileOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<IReadOnlyList<ReconcileResult>> RunAsync(IReadOnlyList<DeskStream> tables, Action<string>? report, CancellationToken ct)
    {
        await sink.InitializeAsync(ct);
        var fields = await FieldDefinitionsRead.ReadAsync(client, tables.Select(t => t.FieldsModule).OfType<string>().Distinct(), report, ct);
        var results = new List<ReconcileResult>();
        foreach (var table in tables.Where(t => t.Read.Reconciles))
        {
            var before = client.Log.ByLabel.GetValueOrDefault(table.Name);
            var started = _time.GetUtcNow();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            string? message = null;
            long deleted = 0;
            try
            {
                var reading = new StreamReading(client, table, _time, new SnapshotOptions { Partitions = 8 }, Task.FromResult(fields));
                var batches = table.Read.LoadAsync(reading, null, ct);
                await foreach (var batch in batches)
                {
                    using (batch.Pages)
                    {
                        foreach (var r in batch.Records)
                        {
                            ids.Add(r.GetProperty("id").ToString());
                        }
                    }
                }

                var schema = FullLoad.SchemaOf(table, fields);
                await sink.EnsureTableAsync(schema, ct);
                var target = await sink.KeysWrittenBeforeAsync(table.Name, started, ct);
                var missing = target.Where(k => !ids.Contains(k)).ToList();
                if (!_options.Force && target.Count > 0 && missing.Count > _options.MaxDeleteShare * target.Count)
                {
                    message = $"{table.DisplayName}: Zoho lists {ids.Count} records but the target has {missing.Count} more; not deleting more than {_options.MaxDeleteShare:P0} of a table at once (use --force if this is right).";
                    report?.Invoke("warning: " + message);
                }
                else if (missing.Count > 0)
                {
                    // The children first: a crash between the two leaves the parent to be found missing again.
                    foreach (var child in DeskStreams.ChildrenOf(table).Where(tables.Contains))
                    {
                        await sink.ApplyAsync(FullLoad.SchemaOf(child, fields), [.. missing.Select(k => new ChangeEvent(ChangeOp.Delete, child.Name, k, null, started, "reconcile") { Scope = ParentScope.All })], null, ct);
                    }

                    await sink.ApplyAsync(schema, [.. missing.Select(k => new ChangeEvent(ChangeOp.Delete, table.Name, k, null, started, "reconcile"))], null, ct);
                    deleted = missing.Count;
                }
            }
            catch (ZohoApiException ex)
            {
                // An incomplete listing must never delete anything.
                message = $"{table.DisplayName}: the id listing failed ({ex.Message}); nothing was deleted.";
                report?.Invoke("warning: " + message);
            }
            catch (NotSupportedException ex)
            {
                message = ex.Message;
                report?.Invoke("warning: " + message);
            }

            var after = client.Log.ByLabel.GetValueOrDefault(table.Name);
            results.Add(new ReconcileResult(table, ids.Count, deleted, after.Calls - before.Calls, after.Credits - before.Credits, message));
        }

        return results;
    }
}
