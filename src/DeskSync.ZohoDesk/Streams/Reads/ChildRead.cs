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
            var lists = await Task.WhenAll(parents.Where(p => p.Count is not 0).Select(p => ListAsync(reading, child, p.Id, ct)));
            yield return new SnapshotBatch([.. lists.SelectMany(l => l)], batch.State, batch.Complete);
        }
    }

    public override async IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken ct)
    {
        var child = Child(reading.Stream);
        await foreach (var changes in child.Parent.Read.PollAsync(ParentReading(reading, child), since, until, ct))
        {
            var rereads = await Task.WhenAll(changes.Where(c => c.Op != ChangeOp.Delete && c.Record is not null)
                .Select(c => RereadAsync(reading, c.Key, child.CountIn(c.Record!.Value), "poll", ct)));
            yield return [.. rereads.SelectMany(r => r)];
        }
    }

    /// <summary>
    /// A parent's children as Zoho lists them now: an upsert of each, then a delete of the rows
    /// of this parent it did not list. A parent whose count is 0 costs no call.
    /// </summary>
    public static async Task<IReadOnlyList<ChangeEvent>> RereadAsync(StreamReading reading, string parentId, long? count, string source, CancellationToken ct)
    {
        var stream = reading.Stream;
        // Rows written after this moment came from events newer than the listing: the delete leaves them.
        var started = reading.Time.GetUtcNow();
        var listed = count is 0 ? [] : await ListAsync(reading, Child(stream), parentId, ct);
        var events = listed.Select(r => Polled(stream, r) with { Source = source }).ToList();
        events.Add(new ChangeEvent(ChangeOp.Delete, stream.Name, parentId, null, started, source)
        {
            Scope = new ParentScope(events.Select(e => e.Key).ToHashSet(StringComparer.Ordinal), started),
        });
        return events;
    }

    /// <summary>A record with its parent's id in the parent field (added first when Zoho's answer lacks it).</summary>
    public static JsonElement WithParent(JsonElement record, string field, string parentId)
    {
        if (record.TryGetProperty(field, out var existing) && existing.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            return record;
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(field, parentId);
            foreach (var property in record.EnumerateObject())
            {
                if (property.NameEquals(field))
                {
                    continue;
                }

                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

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
            KeyValuePair<string, string?>[] oldest = child.Order is { } order ? [order.Oldest] : [];
            await foreach (var record in reading.Client.ListAsync(path, stream.PageSize, oldest, label: reading.Label, itemsProperty: child.ItemsKey, cancellationToken: ct))
            {
                records.Add(WithParent(record, child.ParentField, parentId));
            }

            return records;
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

                    records.Add(WithParent(record, child.ParentField, parentId));
                }

                met = true; // read to the other end, or met the first pass
            }
            catch (ZohoApiException again) when (again.Kind == ZohoFailureKind.OffsetLimit)
            {
                met = false;
            }

            return met ? records : throw new ZohoApiException(ZohoFailureKind.OffsetLimit,
                $"{stream.DisplayName} of {child.Parent.DisplayName.TrimEnd('s').ToLowerInvariant()} {parentId}: more than Zoho's offsets reach from both ends of the list.");
        }
    }
}
