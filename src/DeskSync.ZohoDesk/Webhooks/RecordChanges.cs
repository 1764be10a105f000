using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>One change to apply, with the event (by its index in the journal record) it came from.</summary>
internal sealed record PreparedChange(int Index, DeskStream Table, ChangeEvent Change, WebhookEvent Source);

/// <summary>
/// A journal record's events as the changes to apply, in order, table by table. The reads an event
/// needs (a thin record, or a parent's children) go out together, within the client's
/// concurrency cap; a parent named by several events of the record has its children read once,
/// applied at the last of them — a read gives Zoho's state now, so one read serves them all. A
/// parent whose count of a kind equals the rows the target holds for it (with those the record
/// adds before) is not read when that kind's adds and updates have events
/// (<see cref="ChildOf.CountShowsChanges"/>): the children's own events brought them.
/// </summary>
internal sealed class RecordChanges(
    DeskClient client,
    ISink sink,
    SnapshotOptions options,
    TimeProvider time,
    IReadOnlyDictionary<string, TableSchema> schemas,
    Action<WebhookEvent, string> quarantine,
    Action<WebhookEvent, string> ignored)
{
    private long _rereads;

    public long Rereads => Interlocked.Read(ref _rereads);

    public async Task<List<PreparedChange>> PrepareAsync(IReadOnlyList<WebhookEvent> events, int startIndex, CancellationToken ct)
    {
        var mapped = new List<(int Index, MappedEvent Mapped)>();
        for (var i = startIndex; i < events.Count; i++)
        {
            foreach (var m in Map(events[i]))
            {
                mapped.Add((i, m));
            }
        }

        // A parent's children are read once per record, for its last event.
        var lastChildRead = new Dictionary<(string, string), int>();
        for (var j = 0; j < mapped.Count; j++)
        {
            if (mapped[j].Mapped is { Action: EventAction.RereadChildren, Table: { } table, Change: { } c })
            {
                lastChildRead[(table.Name, c.Key)] = j;
            }
        }

        // The child counts only a ticket's detail has are read once per ticket for all kinds.
        var counts = ParentCounts.For(schemas.Keys.Select(DeskStreams.Find).OfType<DeskStream>());
        var reads = new Task<IReadOnlyList<ChangeEvent>?>[mapped.Count];
        for (var j = 0; j < mapped.Count; j++)
        {
            var (index, m) = mapped[j];
            reads[j] = m.Action switch
            {
                EventAction.Reread => ReadAsync(events[index], m.Table!, () => Reread(m.Table!, m.Change!, ct)),
                EventAction.RereadChildren when lastChildRead[(m.Table!.Name, m.Change!.Key)] == j => ReadAsync(events[index], m.Table!, () => RereadChildren(m.Table!, m.Change!, AddedBefore(mapped, j), counts, ct)),
                EventAction.RereadChildren => Task.FromResult<IReadOnlyList<ChangeEvent>?>(null),
                _ => Task.FromResult<IReadOnlyList<ChangeEvent>?>([m.Change!]),
            };
        }

        // Every read ends before this returns or throws: none may go on touching the target after its owner stopped.
        await Together.WhenAllAsync(reads);
        var changes = new List<PreparedChange>();
        for (var j = 0; j < mapped.Count; j++)
        {
            var (index, m) = mapped[j];
            foreach (var change in await reads[j] ?? [])
            {
                changes.Add(new PreparedChange(index, m.Table!, change, events[index]));
            }
        }

        return changes;
    }

    /// <summary>The children of the parent the j-th change names that the record creates before it (their events bring them whole).</summary>
    private static HashSet<string> AddedBefore(List<(int Index, MappedEvent Mapped)> mapped, int j)
    {
        var (table, parentId) = (mapped[j].Mapped.Table!, mapped[j].Mapped.Change!.Key);
        var field = table.Parent!.ParentField;
        return [.. mapped.Take(j).Where(m => m.Mapped is { Action: EventAction.Apply or EventAction.Reread, Change: { Op: ChangeOp.Create, Record: { } r } } && m.Mapped.Table == table
            && r.TryGetProperty(field, out var p) && p.ToString() == parentId).Select(m => m.Mapped.Change!.Key)];
    }

    /// <summary>What an event changes among the replicated tables; an event about nothing replicated is counted as ignored.</summary>
    private List<MappedEvent> Map(WebhookEvent e)
    {
        IReadOnlyList<MappedEvent> all;
        try
        {
            all = WebhookEventMapper.MapAll(e);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            quarantine(e, $"the event cannot be read: {ex.GetType().Name}: {ex.Message}");
            return [];
        }

        var kept = all.Where(m => m.Action != EventAction.Ignore && m.Table is not null && schemas.ContainsKey(m.Table.Name)).ToList();
        if (!kept.Contains(all[0]))
        {
            ignored(e, all[0].Reason ?? "table not replicated");
        }

        return kept;
    }

    /// <summary>A read for one record; a refusal that concerns this record only quarantines the event (the rest of it still applies).</summary>
    private async Task<IReadOnlyList<ChangeEvent>?> ReadAsync(WebhookEvent e, DeskStream table, Func<Task<IReadOnlyList<ChangeEvent>>> read)
    {
        try
        {
            return await read();
        }
        catch (ZohoApiException ex) when (ex.Kind is ZohoFailureKind.Forbidden or ZohoFailureKind.Configuration)
        {
            quarantine(e, $"{table.Name} cannot be re-read: {ex.Message}");
            return null;
        }
    }

    private async Task<IReadOnlyList<ChangeEvent>> RereadChildren(DeskStream child, ChangeEvent parent, HashSet<string> addedBefore, ParentCounts? counts, CancellationToken ct)
    {
        var reading = Reading(child) with { Counts = counts };
        var count = await ChildRead.CountAsync(reading, child.Parent!, parent.Key, parent.Record, ct);
        var held = await sink.ChildKeysAsync(schemas[child.Name], parent.Key, ct);
        if (count is > 0 && child.Parent!.CountShowsChanges && held is not null && held.Count + addedBefore.Count(a => !held.Contains(a)) == count)
        {
            return [];
        }

        Interlocked.Increment(ref _rereads);
        // A child neither the target holds nor an earlier event of the record brings is new: its
        // detail (a thread's content) is read; a change log cannot tell, so every one is.
        return await ChildRead.RereadAsync(reading, parent.Key, count, "webhook+reread",
            r => held is null || !held.Contains(r.GetProperty("id").ToString()) && !addedBefore.Contains(r.GetProperty("id").ToString()), parent.ModifiedTime, ct);
    }

    private StreamReading Reading(DeskStream stream) =>
        new(client, stream, time, options, Task.FromResult(new Dictionary<string, IReadOnlyList<JsonElement>>()));

    /// <summary>The record as Zoho has it now; gone means deleted. A child's payload is completed by its detail (a thread's content).</summary>
    private async Task<IReadOnlyList<ChangeEvent>> Reread(DeskStream table, ChangeEvent thin, CancellationToken ct)
    {
        Interlocked.Increment(ref _rereads);
        if (table.Parent is { } child && thin.Record is { } payload)
        {
            if (!options.ThreadContent)
            {
                return [thin]; // the summary is all that is wanted
            }

            var parentId = payload.GetProperty(child.ParentField).ToString();
            // The parent's update comes by another webhook and may arrive first: its listing
            // already wrote the new child with its detail, so the child's own event needs no read.
            if (thin.Op == ChangeOp.Create && schemas.TryGetValue(table.Name, out var schema)
                && await sink.ChildKeysAsync(schema, parentId, ct) is { } held && held.Contains(thin.Key))
            {
                return [];
            }

            return [thin with { Record = await ChildRead.DetailAsync(Reading(table), child, parentId, payload, ct), Source = "webhook+reread" }];
        }

        try
        {
            using var doc = await client.GetAsync(table.RecordPath(thin.Key), label: table.Name, cancellationToken: ct);
            if (doc is null)
            {
                return [thin with { Op = ChangeOp.Delete }];
            }

            var record = doc.RootElement.Clone();
            var modified = record.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : thin.ModifiedTime;
            return [thin with { Record = record, ModifiedTime = modified, IsPartial = false, Source = "webhook+reread" }];
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.NotFound)
        {
            return [thin with { Op = ChangeOp.Delete }];
        }
    }
}
