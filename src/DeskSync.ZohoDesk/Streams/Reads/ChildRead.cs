using System.Runtime.CompilerServices;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// A child stream's read (<see cref="ChildOf"/>): the load walks the parent stream's own load and
/// lists the children of each parent whose count says it has any (the parent's load state is the
/// cursor, so a resumed load goes on from the last parent batch written); a poll walks the parents
/// changed since the watermark and reads their children again, deleting those no longer listed.
/// The children of one parent batch are listed together, within the client's concurrency cap.
/// A child whose list item lacks what only its detail has (a thread's content) is read once, when
/// it is new; listed again, it is merged into the stored row, which keeps what the detail gave.
/// </summary>
public sealed class ChildRead : StreamRead
{
    public override string Method => "per parent record";

    /// <summary>Children are reconciled per parent when the parent changes, and go with their parent: never by listing the whole table.</summary>
    public override bool Reconciles => false;

    public override async IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, [EnumeratorCancellation] CancellationToken ct)
    {
        var child = Child(reading.Stream);
        await foreach (var batch in child.Parent.Read.LoadAsync(ParentReading(reading, child), state, ct))
        {
            var parents = Parents(child, batch);
            var listedAt = reading.Time.GetUtcNow();
            var lists = await Task.WhenAll(parents.Where(p => p.Count is not 0).Select(async p =>
                (p.Count ?? await DetailCountAsync(reading, child, p.Id, ct)) is 0 ? [] : await CompleteAsync(reading, child, p.Id, await ListAsync(reading, child, p.Id, ct), _ => true, ct)));
            yield return new SnapshotBatch([.. lists.SelectMany(l => l.Select(c => c.Record))], batch.State, batch.Complete) { ListedAt = listedAt };
        }
    }

    public override async IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken ct)
    {
        var child = Child(reading.Stream);
        await using var pages = child.Parent.Read.PollAsync(ParentReading(reading, child), since, until, ct).GetAsyncEnumerator(ct);
        while (true)
        {
            // The parents' counts are as of this moment: a child written since came from a newer event.
            var read = reading.Time.GetUtcNow();
            if (!await pages.MoveNextAsync())
            {
                yield break;
            }

            // A child created since the poll's window began is new: its detail is read; older ones were loaded with theirs.
            var rereads = await Task.WhenAll(pages.Current.Where(c => c.Op != ChangeOp.Delete && c.Record is not null)
                .Select(async c => await RereadAsync(reading, c.Key, await CountAsync(reading, child, c.Key, c.Record, ct), "poll", r => !(Created(r) < since), read, ct)));
            yield return [.. rereads.SelectMany(r => r)];
        }
    }

    /// <summary>
    /// A parent's children as Zoho lists them now: an upsert of each, then a delete of the rows
    /// of this parent it did not list. A parent whose count is 0 costs no call.
    /// </summary>
    /// <param name="isNew">Which listed children are new to the target, so that their detail is read.</param>
    /// <param name="countAt">When the parent's <paramref name="count"/> was true: a count of 0 deletes only what was written before it, and remembers the delete as of then.</param>
    public static async Task<IReadOnlyList<ChangeEvent>> RereadAsync(StreamReading reading, string parentId, long? count, string source, Func<JsonElement, bool> isNew, DateTimeOffset? countAt, CancellationToken ct)
    {
        var stream = reading.Stream;
        // Rows written after this moment came from events newer than what is read: the delete leaves them.
        var started = count is 0 && countAt is { } at ? at : reading.Time.GetUtcNow();
        var listed = count is 0 ? [] : await CompleteAsync(reading, Child(stream), parentId, await ListAsync(reading, Child(stream), parentId, ct), isNew, ct);
        var events = listed.Select(r => Polled(stream, r.Record) with { Source = source, IsPartial = r.Partial, ListedAt = started }).ToList();
        events.Add(new ChangeEvent(ChangeOp.Delete, stream.Name, parentId, null, started, source)
        {
            Scope = new ParentScope(events.Select(e => e.Key).ToHashSet(StringComparer.Ordinal), started),
        });
        return events;
    }

    /// <summary>
    /// The parent's count of the child's kind: from the parent's record when it has it, else from
    /// its detail when only that has it (one call per parent for the run's child streams), else
    /// null (the children are listed).
    /// </summary>
    public static async Task<long?> CountAsync(StreamReading reading, ChildOf child, string parentId, JsonElement? parent, CancellationToken ct) =>
        (parent is { } record ? child.CountIn(record) : null) ?? await DetailCountAsync(reading, child, parentId, ct);

    private static async Task<long?> DetailCountAsync(StreamReading reading, ChildOf child, string parentId, CancellationToken ct) =>
        child.CountInDetailOnly && reading.Counts is { } counts ? await counts.CountAsync(reading, child, parentId, ct) : null;

    /// <summary>
    /// A child as its row has it, whether listed or carried by an event: its parent's id in the
    /// parent field (added when Zoho's answer lacks it), and for a child whose Zoho id repeats across
    /// parents (a tag) the row id "parent:child" with Zoho's id beside it.
    /// </summary>
    public static JsonElement Row(ChildOf child, JsonElement record, string parentId)
    {
        var fields = new List<(string, JsonElement)>();
        if (!(record.TryGetProperty(child.ParentField, out var existing) && existing.ValueKind is JsonValueKind.String or JsonValueKind.Number))
        {
            fields.Add((child.ParentField, JsonSerializer.SerializeToElement(parentId)));
        }

        if (child.ChildIdField is { } field && record.TryGetProperty("id", out var id))
        {
            fields.Add(("id", JsonSerializer.SerializeToElement($"{parentId}:{id}")));
            fields.Add((field, id.Clone()));
        }

        if (child.KeyTimeField is { } timeField && !record.TryGetProperty("id", out _))
        {
            fields.Add(("id", JsonSerializer.SerializeToElement(ContentKey(record, timeField, parentId))));
        }

        return fields.Count == 0 ? record : Amend(record, fields);
    }

    /// <summary>"parent:time:hash" for a child without an id; the hash is of the entry's bytes as answered, which do not change.</summary>
    private static string ContentKey(JsonElement record, string timeField, string parentId)
    {
        var time = record.TryGetProperty(timeField, out var t) && ValueConverter.ToTimestamp(t) is { } at ? at.ToUnixTimeMilliseconds() : 0;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(record.GetRawText())), 0, 8);
        return $"{parentId}:{time}:{hash}";
    }

    /// <summary>Entries alike in every byte within one listing (keyed alike) get ":2", ":3" … in the order listed, oldest first.</summary>
    private static List<JsonElement> Distinct(ChildOf child, List<JsonElement> rows)
    {
        if (child.KeyTimeField is null)
        {
            return rows;
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = rows.Count - 1; i >= 0; i--)
        {
            var id = rows[i].GetProperty("id").GetString()!;
            var n = seen[id] = seen.GetValueOrDefault(id) + 1;
            if (n > 1)
            {
                rows[i] = Amend(rows[i], [("id", JsonSerializer.SerializeToElement($"{id}:{n}"))]);
            }
        }

        return rows;
    }

    /// <summary>A listed child with the fields only its detail has (a thread's content): one call; a child gone meanwhile stays as listed.</summary>
    public static async Task<JsonElement> DetailAsync(StreamReading reading, ChildOf child, string parentId, JsonElement listed, CancellationToken ct)
    {
        try
        {
            using var doc = await reading.Client.GetAsync(child.DetailPathOf(parentId, listed.GetProperty("id").ToString()), label: reading.Label, cancellationToken: ct);
            if (doc is null)
            {
                return listed;
            }

            var root = doc.RootElement;
            return Amend(listed, [.. child.DetailFields.Where(f => root.TryGetProperty(f, out _)).Select(f => (f, root.GetProperty(f).Clone()))]);
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.NotFound)
        {
            return listed;
        }
    }

    /// <summary>
    /// The listed children, those <paramref name="isNew"/> picks completed by their detail (when
    /// the stream has one and it is wanted); the others are partial: merged into the stored row,
    /// which keeps what their detail gave when they were new.
    /// </summary>
    private static async Task<List<(JsonElement Record, bool Partial)>> CompleteAsync(StreamReading reading, ChildOf child, string parentId, List<JsonElement> listed, Func<JsonElement, bool> isNew, CancellationToken ct)
    {
        if (child.DetailPath is null)
        {
            return [.. listed.Select(r => (r, false))];
        }

        if (!reading.Options.ThreadContent)
        {
            return [.. listed.Select(r => (r, true))];
        }

        return [.. await Task.WhenAll(listed.Select(async r => isNew(r) ? (await DetailAsync(reading, child, parentId, r, ct), false) : (r, true)))];
    }

    /// <summary>The record with <paramref name="fields"/> set, written first, the rest as they were.</summary>
    private static JsonElement Amend(JsonElement record, IReadOnlyList<(string Name, JsonElement Value)> fields)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }

            foreach (var property in record.EnumerateObject())
            {
                if (!fields.Any(f => property.NameEquals(f.Name)))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static DateTimeOffset? Created(JsonElement record) =>
        record.TryGetProperty("createdTime", out var c) ? ValueConverter.ToTimestamp(c) : null;

    private static ChildOf Child(DeskStream stream) =>
        stream.Parent ?? throw new InvalidOperationException($"{stream.Name} is not a child stream.");

    /// <summary>The parent's read, its calls logged as the child's, without the per-record detail calls.</summary>
    private static StreamReading ParentReading(StreamReading reading, ChildOf child) =>
        reading with { Stream = child.Parent, Options = reading.Options with { DetailMode = false } };

    /// <summary>The ids and child counts of a parent batch, taken before its pages are let go.</summary>
    private static List<(string Id, long? Count)> Parents(ChildOf child, SnapshotBatch batch)
    {
        using (batch.Pages)
        {
            return [.. batch.Records.Select(r => (r.GetProperty("id").ToString(), child.CountIn(r)))];
        }
    }

    /// <summary>
    /// Every child of one parent, page by page. Past the offset wall the list is read again newest
    /// first (where the list can be sorted so), which reaches twice as far.
    /// </summary>
    private static async Task<List<JsonElement>> ListAsync(StreamReading reading, ChildOf child, string parentId, CancellationToken ct)
    {
        var stream = reading.Stream;
        var path = child.PathOf(parentId);
        var records = new List<JsonElement>();
        try
        {
            if (!child.Paged)
            {
                using var answer = await reading.Client.GetAsync(path, label: reading.Label, cancellationToken: ct);
                return Distinct(child, [.. DeskClient.Items(answer, child.ItemsKey).Select(r => Row(child, r, parentId))]);
            }

            KeyValuePair<string, string?>[] oldest = child.Order is { } order ? [order.Oldest] : [];
            await foreach (var record in reading.Client.ListAsync(path, stream.PageSize, oldest, label: reading.Label, itemsProperty: child.ItemsKey, cancellationToken: ct))
            {
                records.Add(Row(child, record, parentId));
            }

            return Distinct(child, records);
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.NotFound)
        {
            return []; // the parent was deleted since it was read: it has no children now
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.OffsetLimit && child.Order is { } order)
        {
            var seen = records.Select(r => r.GetProperty("id").ToString()).ToHashSet(StringComparer.Ordinal);
            bool met;
            try
            {
                await foreach (var record in reading.Client.ListAsync(path, stream.PageSize, [order.Newest], label: reading.Label, itemsProperty: child.ItemsKey, cancellationToken: ct))
                {
                    if (!seen.Add(record.GetProperty("id").ToString()))
                    {
                        break; // the two ends met: every child is read
                    }

                    records.Add(Row(child, record, parentId));
                }

                met = true; // read to the other end, or met the first pass
            }
            catch (ZohoApiException again) when (again.Kind == ZohoFailureKind.OffsetLimit)
            {
                met = false;
            }

            return met ? Distinct(child, records) : throw new ZohoApiException(ZohoFailureKind.OffsetLimit,
                $"{stream.DisplayName} of {child.Parent.DisplayName.TrimEnd('s').ToLowerInvariant()} {parentId}: more than Zoho's offsets reach from both ends of the list.");
        }
    }
}
