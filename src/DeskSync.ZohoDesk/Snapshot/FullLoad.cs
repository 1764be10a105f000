using System.Diagnostics;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Snapshot;

public enum TableLoadStatus
{
    Loaded,
    AlreadyLoaded,

    /// <summary>Loaded before; brought up to date since by the poll path (`sync` on a loaded table).</summary>
    Updated,
    Skipped,
    Failed,
}

public sealed record TableLoadResult(DeskStream Table, TableLoadStatus Status, long Rows, long Calls, long Credits, TimeSpan Elapsed, string? Message);

/// <summary>What a full load reports while it runs.</summary>
public interface IFullLoadProgress
{
    void TableStarted(DeskStream table);

    void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits);

    void TableFinished(TableLoadResult result);

    void Warning(string message);
}

/// <summary>
/// The full load: for each table, its schema (with the custom fields of its module), then its
/// reader's batches into the sink, each batch committed with the reader's checkpoint. A table
/// whose snapshot completed is skipped unless a full refresh is asked for; a table the portal's
/// licence forbids is skipped with a warning and the rest loads.
/// </summary>
public sealed class FullLoad(DeskClient client, ISink sink, SnapshotOptions options, TimeProvider? time = null)
{
    /// <summary>The most records one commit gathers from batches already read (five pages of 100).</summary>
    internal const int CoalescedRows = 500;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // The run's shared reads of tickets' details for the child counts only they carry.
    private ParentCounts? _counts;
    private (long Calls, long Credits, long Failures) _fieldsBefore;

    /// <summary>The field definitions read at the start of the run, by module.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> Fields { get; private set; } = new Dictionary<string, IReadOnlyList<JsonElement>>();

    public async Task<IReadOnlyList<TableLoadResult>> RunAsync(IReadOnlyList<DeskStream> tables, IFullLoadProgress? progress, CancellationToken cancellationToken)
    {
        await sink.InitializeAsync(cancellationToken);
        _fieldsBefore = client.Log.ByLabel.GetValueOrDefault(DeskStreams.OrganizationFields.Name);
        _counts = ParentCounts.For(tables);
        var modules = FieldDefinitionsRead.ModulesFor(tables);
        // The progress hears from one table (or the field definitions) at a time.
        var heard = progress is null ? null : new OneAtATime(progress);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The field definitions are read while the tables' first calls go out: a table needs them
        // only to make its columns, before its first write.
        var fieldsRead = FieldDefinitionsRead.ReadAsync(client, modules, heard is null ? null : heard.Warning, stop.Token);
        try
        {
            if (tables.Count == 1)
            {
                var result = await LoadTableAsync(tables[0], fieldsRead, sink, heard, stop.Token);
                Fields = await fieldsRead;
                return [result];
            }

            // The tables load together: their calls share the client's concurrency cap, so a small
            // table's one call no longer waits for the table before it, nor a large table's last
            // pages leave the cap idle. Their batches go into the sink one at a time.
            var shared = new SerializedSink(sink);
            var loads = tables.Select(table => Task.Run(async () =>
            {
                try
                {
                    return await LoadTableAsync(table, fieldsRead, shared, heard, stop.Token);
                }
                catch
                {
                    await stop.CancelAsync(); // one table's failure stops the load, as it did when tables loaded one by one
                    throw;
                }
            }, CancellationToken.None)).ToList();
            try
            {
                await Together.WhenAllAsync(loads);
            }
            finally
            {
                await shared.DisposeAsync();
            }

            Fields = await fieldsRead;
            return [.. loads.Select(l => l.Result)];
        }
        finally
        {
            // No call of this run outlives it: a table that failed before it needed the field
            // definitions leaves their read to be stopped here.
            if (!fieldsRead.IsCompleted)
            {
                await stop.CancelAsync();
            }

            await ((Task)fieldsRead).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public static TableSchema SchemaOf(DeskStream table, IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> fields) =>
        DeskSchemaBuilder.Build(table, table.FieldsModule is { } m && fields.TryGetValue(m, out var defs) ? defs : []);

    private async Task<TableLoadResult> LoadTableAsync(DeskStream table, Task<Dictionary<string, IReadOnlyList<JsonElement>>> fieldsRead, ISink sink, IFullLoadProgress? progress, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        // The field definitions (read alongside every table) are the organization_fields table's cost.
        var before = table == DeskStreams.OrganizationFields ? _fieldsBefore : client.Log.ByLabel.GetValueOrDefault(table.Name);
        (long Calls, long Credits) Spent()
        {
            var now = client.Log.ByLabel.GetValueOrDefault(table.Name);
            return (now.Calls - before.Calls, now.Credits - before.Credits);
        }

        var state = await TableCheckpoints.LoadAsync(sink, table, ct);
        if (state is { IsComplete: true } && !options.FullRefresh)
        {
            await sink.EnsureTableAsync(SchemaOf(table, await fieldsRead), ct); // new custom fields still become columns
            var result = new TableLoadResult(table, TableLoadStatus.AlreadyLoaded, 0, 0, 0, watch.Elapsed, "already loaded; use --full-refresh to load it again");
            progress?.TableFinished(result);
            return result;
        }

        if (state is { IsComplete: true })
        {
            state = null;
        }

        state ??= new LoadState("running", ValueConverter.Iso(_time.GetUtcNow()), null);
        progress?.TableStarted(table);
        long rows = 0;
        try
        {
            // The reader's first calls go out before the field definitions are in and the table is
            // made ready (creating a table of some seventy columns takes tens of milliseconds):
            // the calls' wait hides both.
            using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await using var batches = Read(table, fieldsRead, state.Reader, reading.Token).GetAsyncEnumerator(reading.Token);
            var more = batches.MoveNextAsync();

            // On a failure while `more` reads: the reader cannot be disposed while it reads.
            async Task StopReadingAsync()
            {
                await reading.CancelAsync();
                await ((Task)more.AsTask()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            TableSchema schema;
            try
            {
                schema = SchemaOf(table, await fieldsRead);
                await sink.EnsureTableAsync(schema, ct);
            }
            catch
            {
                await StopReadingAsync();
                throw;
            }

            var pages = new List<IDisposable?>();
            var hasBatch = await more;
            while (hasBatch)
            {
                // Batches the reader already has waiting are committed together, with the last
                // one's state (which covers every record before it): when the target is what holds
                // the load back, it pays for a commit every few pages instead of every page. A
                // batch that is not there yet is not waited for.
                var batch = batches.Current;
                var events = new List<ChangeEvent>(batch.Records.Count);
                var running = false; // `more` is a MoveNextAsync still in flight
                var ended = false;
                LoadState next;
                try
                {
                    while (true)
                    {
                        pages.Add(batch.Pages);
                        events.AddRange(batch.Records.Select(r => ToEvent(table, r) with { ListedAt = batch.ListedAt }));
                        if (batch.Complete || events.Count >= CoalescedRows)
                        {
                            break;
                        }

                        more = batches.MoveNextAsync();
                        // A reader that failed meanwhile (a partition's error) still lets what it
                        // read before be written: the error comes after this commit, from `more`.
                        if (!more.IsCompletedSuccessfully)
                        {
                            running = true;
                            break;
                        }

                        if (!more.Result)
                        {
                            ended = true;
                            break;
                        }

                        batch = batches.Current;
                    }

                    next = state with { Status = batch.Complete ? "complete" : "running", Reader = batch.State };
                    await sink.ApplyAsync(schema, events, TableCheckpoints.Of(table, next), ct);
                }
                catch when (running)
                {
                    await StopReadingAsync();
                    throw;
                }
                finally
                {
                    pages.ForEach(p => p?.Dispose());
                    pages.Clear();
                }

                state = next;
                rows += events.Count;
                var (calls, credits) = Spent();
                progress?.RowsWritten(table, rows, batch.Total, calls, credits);
                hasBatch = !ended && (running ? await more : await batches.MoveNextAsync());
            }

            var (c, cr) = Spent();
            var loaded = new TableLoadResult(table, TableLoadStatus.Loaded, rows, c, cr, watch.Elapsed, null);
            progress?.TableFinished(loaded);
            return loaded;
        }
        // A table's own failure; the field definitions' failure stops the whole load, as it did when they were read first.
        catch (ZohoApiException ex) when (ex.Kind is ZohoFailureKind.OffsetLimit or ZohoFailureKind.NotFound or ZohoFailureKind.Configuration && ex.ErrorCode is not "OAUTH_ORG_MISMATCH" && !fieldsRead.IsFaulted)
        {
            // This table cannot be read as it is (a missing scope, an offset wall); the others can. A wrong org stops the whole load.
            var (c, cr) = Spent();
            var failed = new TableLoadResult(table, TableLoadStatus.Failed, rows, c, cr, watch.Elapsed, $"{table.DisplayName} failed: {ex.Message}");
            progress?.Warning(failed.Message!);
            progress?.TableFinished(failed);
            return failed;
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.Forbidden && !fieldsRead.IsFaulted)
        {
            var (c, cr) = Spent();
            var skipped = new TableLoadResult(table, TableLoadStatus.Skipped, rows, c, cr, watch.Elapsed,
                $"{table.DisplayName} skipped: the portal's edition or the user's permissions do not allow it ({ex.ErrorCode}).");
            progress?.Warning(skipped.Message!);
            progress?.TableFinished(skipped);
            return skipped;
        }
    }

    private IAsyncEnumerable<SnapshotBatch> Read(DeskStream table, Task<Dictionary<string, IReadOnlyList<JsonElement>>> fieldsRead, string? readerState, CancellationToken ct) =>
        table.Read.LoadAsync(new StreamReading(client, table, _time, options, fieldsRead) { Counts = _counts }, readerState, ct);

    private static ChangeEvent ToEvent(DeskStream table, JsonElement record)
    {
        JsonRecord.Find(record, "id"u8, out var id, "modifiedTime"u8, out var modified);
        return new ChangeEvent(ChangeOp.Read, table.Name, JsonRecord.Id(id, table.DisplayName), record, modified is { } m ? ValueConverter.ToTimestamp(m) : null, "snapshot");
    }

    /// <summary>A progress that hears from one table at a time.</summary>
    private sealed class OneAtATime(IFullLoadProgress inner) : IFullLoadProgress
    {
        private readonly Lock _gate = new();

        public void TableStarted(DeskStream table)
        {
            lock (_gate)
            {
                inner.TableStarted(table);
            }
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
            lock (_gate)
            {
                inner.RowsWritten(table, rowsSoFar, total, calls, credits);
            }
        }

        public void TableFinished(TableLoadResult result)
        {
            lock (_gate)
            {
                inner.TableFinished(result);
            }
        }

        public void Warning(string message)
        {
            lock (_gate)
            {
                inner.Warning(message);
            }
        }
    }

}
