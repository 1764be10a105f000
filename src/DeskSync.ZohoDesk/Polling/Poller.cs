using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Polling;

public sealed record PollOptions
{
    /// <summary>Each poll reads again from this long before the watermark: Zoho's search may lag behind writes.</summary>
    public TimeSpan Overlap { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Changes before this are known to be in the target already (the newest webhook event applied): read from here when it is later than the table's watermark.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>How records are read (whether a new thread's content is read).</summary>
    public SnapshotOptions Reading { get; init; } = new();
}

public sealed record PollResult(DeskStream Table, long Rows, long Calls, long Credits, string? Message = null);

/// <summary>
/// Incremental reads without webhooks: search tables by modifiedTimeRange sorted by
/// modifiedTime (a cursor, as in the full load, from the watermark less an overlap); Contracts
/// by the list sorted newest-modified first, reading details until one is older than the
/// watermark; small tables (departments, agents, teams, field definitions) by a full re-read
/// that also removes rows Zoho no longer lists. The watermark starts where the full load started
/// (Singer's signpost), so nothing changed during the load is missed. Custom fields added in Zoho
/// become columns on the next poll; a removed one's column stays; a type change is reported.
/// </summary>
public sealed class Poller(DeskClient client, ISink sink, PollOptions? options = null, TimeProvider? time = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly PollOptions _options = options ?? new PollOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<IReadOnlyList<PollResult>> PollOnceAsync(IReadOnlyList<DeskStream> tables, Action<string>? report, CancellationToken ct)
    {
        await sink.InitializeAsync(ct);
        var modules = FieldDefinitionsRead.ModulesFor(tables);
        var fieldsBefore = client.Log.ByLabel.GetValueOrDefault(DeskStreams.OrganizationFields.Name);
        var fields = await FieldDefinitionsRead.ReadAsync(client, modules, report, ct);
        var results = new List<PollResult>();
        if (!tables.Contains(DeskStreams.OrganizationFields) && modules.Count > 0)
        {
            // The field definitions are read for the columns even when their table is not polled: their calls count too.
            var read = client.Log.ByLabel.GetValueOrDefault(DeskStreams.OrganizationFields.Name);
            results.Add(new PollResult(DeskStreams.OrganizationFields, 0, read.Calls - fieldsBefore.Calls, read.Credits - fieldsBefore.Credits, "field definitions, read to keep the columns current"));
        }

        var counts = ParentCounts.For(tables);
        foreach (var table in tables)
        {
            // The field definitions' table is charged the reads made above for it.
            var before = table == DeskStreams.OrganizationFields ? fieldsBefore : client.Log.ByLabel.GetValueOrDefault(table.Name);
            var schema = FullLoad.SchemaOf(table, fields);
            var changes = await sink.EnsureTableAsync(schema, ct);
            foreach (var added in changes.AddedColumns)
            {
                report?.Invoke($"{table.Name}: new column {added} (a field added in Zoho).");
            }

            foreach (var changed in changes.TypeChanges)
            {
                report?.Invoke("warning: " + changed);
            }

            try
            {
                var reading = new StreamReading(client, table, _time, _options.Reading with { DetailMode = false }, Task.FromResult(fields)) { Counts = counts };
                var rows = table.Read.PollsEverything
                    ? await RereadWholeAsync(reading, schema, ct)
                    : await PollChangesAsync(reading, schema, ct);
                var after = client.Log.ByLabel.GetValueOrDefault(table.Name);
                results.Add(new PollResult(table, rows, after.Calls - before.Calls, after.Credits - before.Credits));
            }
            catch (ZohoApiException ex) when (ex.Kind is ZohoFailureKind.Forbidden or ZohoFailureKind.Configuration or ZohoFailureKind.NotFound && ex.ErrorCode is not "OAUTH_ORG_MISMATCH")
            {
                var after = client.Log.ByLabel.GetValueOrDefault(table.Name);
                results.Add(new PollResult(table, 0, after.Calls - before.Calls, after.Credits - before.Credits, $"{table.DisplayName}: {ex.Message}"));
                report?.Invoke($"warning: {table.DisplayName} not polled: {ex.Message}");
            }
        }

        return results;
    }

    /// <summary>Where the previous poll (or, before any, the full load) left off, or the newest applied event when that is later.</summary>
    private async Task<DateTimeOffset> WatermarkAsync(DeskStream table, CancellationToken ct)
    {
        var saved = await SavedWatermarkAsync(table, ct);
        return _options.NotBefore is { } applied && applied > saved ? applied : saved;
    }

    private async Task<DateTimeOffset> SavedWatermarkAsync(DeskStream table, CancellationToken ct)
    {
        if (await TableCheckpoints.PollAsync(sink, table, ct) is { } poll)
        {
            return poll.Through;
        }

        if (await TableCheckpoints.LoadAsync(sink, table, ct) is { } load)
        {
            return load.Started;
        }

        throw new ZohoApiException(ZohoFailureKind.Configuration, $"{table.DisplayName} has no full load to poll from: run `desksync sync` first.");
    }

    /// <summary>What changed since the watermark (less the overlap), applied batch by batch; the watermark moves once all is in.</summary>
    private async Task<long> PollChangesAsync(StreamReading reading, TableSchema schema, CancellationToken ct)
    {
        var since = await WatermarkAsync(reading.Stream, ct) - _options.Overlap;
        var until = _time.GetUtcNow();
        long rows = 0;
        await foreach (var changes in reading.Stream.Read.PollAsync(reading, since, until, ct))
        {
            await sink.ApplyAsync(schema, changes, null, ct);
            rows += changes.Count;
        }

        await SaveWatermarkAsync(reading.Stream, until, ct);
        return rows;
    }

    /// <summary>Small tables: read whole; rows Zoho no longer lists are deleted (the listing is complete or this throws).</summary>
    private async Task<long> RereadWholeAsync(StreamReading reading, TableSchema schema, CancellationToken ct)
    {
        var table = reading.Stream;
        var started = _time.GetUtcNow();
        var events = new List<ChangeEvent>();
        await foreach (var changes in table.Read.PollAsync(reading, started, started, ct))
        {
            events.AddRange(changes);
        }

        var listed = events.Count;
        var seen = events.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        try
        {
            var stale = (await sink.KeysWrittenBeforeAsync(table.Name, started, ct)).Where(k => !seen.Contains(k));
            events.AddRange(stale.Select(k => new ChangeEvent(ChangeOp.Delete, table.Name, k, null, started, "poll")));
        }
        catch (NotSupportedException)
        {
            // A change log cannot tell which rows it holds: the rows are written, and what Zoho no
            // longer lists reaches it only as a delete event (as for reconciliation).
        }

        await sink.ApplyAsync(schema, events, TableCheckpoints.Of(table, new PollState(ValueConverter.Iso(started))), ct);
        return listed;
    }

    private Task SaveWatermarkAsync(DeskStream table, DateTimeOffset watermark, CancellationToken ct) =>
        sink.SaveCheckpointAsync(TableCheckpoints.Of(table, new PollState(ValueConverter.Iso(watermark))), ct);

}
