using System.Globalization;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Catalog;
using DeskSync.ZohoDesk.Snapshot;

namespace DeskSync.ZohoDesk.Polling;

public sealed record PollOptions
{
    /// <summary>Each poll reads again from this long before the watermark: Zoho's search may lag behind writes.</summary>
    public TimeSpan Overlap { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Changes before this are known to be in the target already (the newest webhook event applied): read from here when it is later than the table's watermark.</summary>
    public DateTimeOffset? NotBefore { get; init; }
}

public sealed record PollResult(DeskTable Table, long Rows, long Calls, long Credits, string? Message = null);

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
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly PollOptions _options = options ?? new PollOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public static string StreamOf(DeskTable table) => "poll/" + table.Name;

    public async Task<IReadOnlyList<PollResult>> PollOnceAsync(IReadOnlyList<DeskTable> tables, Action<string>? report, CancellationToken ct)
    {
        await sink.InitializeAsync(ct);
        var modules = tables.Select(t => t.FieldsModule).OfType<string>().Concat(tables.Contains(DeskTables.OrganizationFields) ? DeskTables.FieldModules : []).Distinct().ToList();
        var fieldsBefore = client.Log.ByLabel.GetValueOrDefault(DeskTables.OrganizationFields.Name);
        var fields = await ListTableReader.ReadFieldDefinitionsAsync(client, modules, report, ct);
        var results = new List<PollResult>();
        if (!tables.Contains(DeskTables.OrganizationFields) && modules.Count > 0)
        {
            // The field definitions are read for the columns even when their table is not polled: their calls count too.
            var read = client.Log.ByLabel.GetValueOrDefault(DeskTables.OrganizationFields.Name);
            results.Add(new PollResult(DeskTables.OrganizationFields, 0, read.Calls - fieldsBefore.Calls, read.Credits - fieldsBefore.Credits, "field definitions, read to keep the columns current"));
        }

        foreach (var table in tables)
        {
            // The field definitions' table is charged the reads made above for it.
            var before = table == DeskTables.OrganizationFields ? fieldsBefore : client.Log.ByLabel.GetValueOrDefault(table.Name);
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
                var rows = table.Strategy switch
                {
                    ReadStrategy.SearchByCreatedTime => await PollSearchAsync(table, schema, ct),
                    ReadStrategy.ListThenDetail => await PollByDetailAsync(table, schema, ct),
                    _ => await RereadSmallTableAsync(table, schema, fields, ct),
                };
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
    private async Task<DateTimeOffset> WatermarkAsync(DeskTable table, CancellationToken ct)
    {
        var saved = await SavedWatermarkAsync(table, ct);
        return _options.NotBefore is { } applied && applied > saved ? applied : saved;
    }

    private async Task<DateTimeOffset> SavedWatermarkAsync(DeskTable table, CancellationToken ct)
    {
        if (await sink.GetCheckpointAsync(StreamOf(table), ct) is { } poll)
        {
            return ValueConverter.ParseTime(JsonSerializer.Deserialize<PollState>(poll.State, Json)!.Watermark);
        }

        if (await sink.GetCheckpointAsync(FullLoad.StreamOf(table), ct) is { } snapshot
            && JsonDocument.Parse(snapshot.State).RootElement.TryGetProperty("startedAt", out var started))
        {
            return ValueConverter.ParseTime(started.GetString()!);
        }

        throw new ZohoApiException(ZohoFailureKind.Configuration, $"{table.DisplayName} has no full load to poll from: run `desksync sync` first.");
    }

    private async Task<long> PollSearchAsync(DeskTable table, TableSchema schema, CancellationToken ct)
    {
        var watermark = await WatermarkAsync(table, ct);
        var end = _time.GetUtcNow();
        var cursor = watermark - _options.Overlap;
        var from = 0;
        long rows = 0;
        while (true)
        {
            using var page = await client.GetAsync(table.SearchPath,
                [
                    new("modifiedTimeRange", $"{ValueConverter.Iso(cursor - Tick)},{ValueConverter.Iso(end)}"),
                    new("sortBy", "modifiedTime"),
                    new("from", from.ToString(CultureInfo.InvariantCulture)),
                    new("limit", table.PageSize.ToString(CultureInfo.InvariantCulture)),
                ],
                label: table.Name, expectedWeight: 3, cancellationToken: ct);
            var records = DeskClient.Items(page);
            if (records.Count > 0)
            {
                await sink.ApplyAsync(schema, [.. records.Select(r => Event(table, r))], null, ct);
                rows += records.Count;
            }

            var newest = records.Select(r => r.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null).Max() ?? cursor;
            if (records.Count < table.PageSize)
            {
                break;
            }

            if (newest <= cursor)
            {
                from += table.PageSize;
                if (from > DeskClient.SearchOffsetMax)
                {
                    throw new ZohoApiException(ZohoFailureKind.OffsetLimit, $"{table.DisplayName}: more than 1,000 records were modified in the same millisecond.");
                }
            }
            else
            {
                cursor = newest;
                from = 0;
            }
        }

        await SaveWatermarkAsync(table, end, ct);
        return rows;
    }

    /// <summary>Contracts: the list newest-modified first (it is thin), then details until one is older than the watermark.</summary>
    private async Task<long> PollByDetailAsync(DeskTable table, TableSchema schema, CancellationToken ct)
    {
        var since = await WatermarkAsync(table, ct) - _options.Overlap;
        var end = _time.GetUtcNow();
        long rows = 0;
        await foreach (var item in client.ListAsync(table.Path, table.PageSize, [new("sortBy", "-modifiedTime")], label: table.Name, cancellationToken: ct))
        {
            using var detail = await client.GetAsync($"{table.Path}/{Uri.EscapeDataString(item.GetProperty("id").ToString())}", label: table.Name, cancellationToken: ct);
            if (detail is null)
            {
                continue;
            }

            var record = detail.RootElement.Clone();
            var modified = record.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null;
            if (modified is { } t && t < since)
            {
                break; // everything after this one is older still
            }

            await sink.ApplyAsync(schema, [Event(table, record)], null, ct);
            rows++;
        }

        await SaveWatermarkAsync(table, end, ct);
        return rows;
    }

    /// <summary>Small tables: read whole; rows Zoho no longer lists are deleted (the listing is complete or this throws).</summary>
    private async Task<long> RereadSmallTableAsync(DeskTable table, TableSchema schema, IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> fields, CancellationToken ct)
    {
        var started = _time.GetUtcNow();
        var records = new List<JsonElement>();
        await foreach (var batch in new ListTableReader(client, table, fields).ReadAsync(ct))
        {
            records.AddRange(batch.Records);
        }

        var events = records.Select(r => Event(table, r)).ToList();
        var seen = events.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var stale = (await sink.KeysWrittenBeforeAsync(table.Name, started, ct)).Where(k => !seen.Contains(k));
        events.AddRange(stale.Select(k => new ChangeEvent(ChangeOp.Delete, table.Name, k, null, started, "poll")));
        await sink.ApplyAsync(schema, events, new Checkpoint(StreamOf(table), JsonSerializer.Serialize(new PollState(ValueConverter.Iso(started)), Json)), ct);
        return records.Count;
    }

    private Task SaveWatermarkAsync(DeskTable table, DateTimeOffset watermark, CancellationToken ct) =>
        sink.SaveCheckpointAsync(new Checkpoint(StreamOf(table), JsonSerializer.Serialize(new PollState(ValueConverter.Iso(watermark)), Json)), ct);

    internal static ChangeEvent Event(DeskTable table, JsonElement record) =>
        new(ChangeOp.Update, table.Name, record.GetProperty("id").ToString(), record,
            record.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null, "poll");

    private sealed record PollState(string Watermark);
}
