using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// Reads a whole table through GET /{module}/search sorted by createdTime, which answers complete
/// records (modifiedTime, cf) 100 at a time. Zoho serves search offsets up to 999 only, so instead
/// of an offset the reader walks a createdTime cursor: every page asks for
/// createdTimeRange = [cursor − 1 ms, partition end + 1 ms] from offset 0 and moves the cursor to
/// the page's last createdTime. Each call yields ~99 new records whatever the table's size, a
/// deleted or added record never shifts a page, and the cursor is the checkpoint.
/// The time range is cut into partitions read in parallel; each accepts only records inside its
/// own [start, end], so partitions never share a record whether Zoho's range bounds are inclusive
/// or not (unknown: the 1 ms margins cover both).
/// </summary>
public sealed partial class CreatedTimeSearchReader(DeskClient client, DeskStream table, SnapshotOptions options, TimeProvider time, string? label = null)
{
    private const string Beginning = "1900-01-01T00:00:00.000Z";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async IAsyncEnumerable<SnapshotBatch> ReadAsync(string? stateJson, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = stateJson is null ? null : JsonSerializer.Deserialize<SearchState>(stateJson, Json);
        SnapshotBatch? opening = null;
        if (state?.Partitions is null)
        {
            // Fresh start: the oldest page and the newest go out together. The oldest tells whether
            // the table is small and, with the newest, how its records spread over time for the plan;
            // the newest page's records are data too, so a large table pays no call for planning.
            var end = ValueConverter.Iso(time.GetUtcNow().AddDays(1));
            var oldestCall = SearchAsync(Beginning, end, "createdTime", 0, table.PageSize, cancellationToken);
            var newestCall = SearchAsync(Beginning, end, "-createdTime", 0, table.PageSize, cancellationToken);
            var (first, newest) = await BothAsync(oldestCall, newestCall);
            var records = DeskClient.View(first);
            if (records.Count < table.PageSize)
            {
                // The whole table was on the first page (the newest page repeated it; a table under 100 records pays that call).
                newest?.Dispose();
                yield return new SnapshotBatch(await DetailedAsync(records, cancellationToken), Serialize(new SearchState(end, [], records.Count)), Complete: true) { Total = records.Count, Pages = first };
                yield break;
            }

            var pages = new PagePair(first, newest);
            var total = first!.RootElement.TryGetProperty("count", out var c) ? Count(c) : records.Count * 2;
            var oldestKeys = records.Select(Keys).ToList();
            var firstCursor = oldestKeys.Max(k => k.Created);
            var newestRecords = DeskClient.View(newest);
            var newestKeys = newestRecords.Select(Keys).ToList();
            // The newest page holds every record created after its own oldest millisecond (and some at it).
            var newestFloor = newestKeys.Count > 0 ? newestKeys.Min(k => k.Created) : firstCursor;
            var latest = newestKeys.Count > 0 ? newestKeys.Max(k => k.Created) : firstCursor;
            var emitted = new List<JsonElement>(records);
            if (newestFloor < firstCursor)
            {
                // The two pages overlap in time: every record is older than the oldest page's last
                // millisecond (so on that page) or newer than the newest page's first (so on that one).
                var seen = oldestKeys.Select(k => k.Id).ToHashSet(StringComparer.Ordinal);
                emitted.AddRange(newestRecords.Where((_, i) => seen.Add(newestKeys[i].Id)));
                emitted = await DetailedAsync(emitted, cancellationToken);
                yield return new SnapshotBatch(emitted, Serialize(new SearchState(end, [], total)), Complete: true) { Total = total, Pages = pages };
                yield break;
            }

            // The partitions share [first page's last millisecond, newest page's first]; what the
            // newest page holds after that is written now, and a last partition starts after it, at
            // its newest record, for what is created while the load runs.
            var tail = Enumerable.Range(0, newestRecords.Count).Where(i => newestKeys[i].Created > newestFloor).Reverse().ToList();
            emitted.AddRange(tail.Select(i => newestRecords[i]));
            var keep = firstCursor - Tick;
            // Partition 0 starts at the first page's last millisecond: its Seen ids are not written twice.
            List<string> firstPageBoundary = [.. oldestKeys.Where(k => k.Created >= keep).Select(k => k.Id)];
            var plan = Plan(firstCursor, firstPageBoundary, newestFloor, total - emitted.Count);
            plan.Add(new PartitionState(ValueConverter.Iso(newestFloor + Tick), end, ValueConverter.Iso(latest), 0, false,
                [.. tail.Where(i => newestKeys[i].Created >= latest - Tick).Select(i => newestKeys[i].Id)]));
            state = new SearchState(end, plan, total, ValueConverter.Iso(latest));
            emitted = await DetailedAsync(emitted, cancellationToken);
            // Written once the partitions' first calls are out: they need nothing from it but the plan.
            opening = new SnapshotBatch(emitted, Serialize(state), Complete: false) { Total = total, Pages = pages };
        }

        if (state.Partitions!.All(p => p.Done))
        {
            yield return new SnapshotBatch([], Serialize(state), Complete: true) { Total = state.Total };
            yield break;
        }

        var partitions = state.Partitions!.ToList();
        var horizon = Parse(state.Latest ?? state.End) + Tick;
        var bounds = partitions.Select(p => new Bound(Parse(p.End), Parse(p.Cursor ?? p.Start), p.Done, horizon)).ToList();
        var splitsLeft = 2 * Math.Max(1, options.Partitions); // each split may cost one call that finds nothing
        var channel = Channel.CreateBounded<(int Index, List<JsonElement> Records, PartitionState State, JsonDocument? Page)>(new BoundedChannelOptions(Math.Max(2, partitions.Count * 2)) { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new List<Task>();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var active = partitions.Count(p => !p.Done);
        // The partition after the newest page has nothing to read but what is created while the
        // load runs: it waits for a call slot that nothing else wants, near the end.
        var held = partitions.FindIndex(p => !p.Done && p.End == state.End && p.Cursor is { } c && state.Latest is { } l && Parse(c) >= Parse(l));

        void Start(int index)
        {
            var partition = partitions[index];
            var bound = bounds[index];
            workers.Add(Task.Run(async () =>
            {
                try
                {
                    await ReadPartitionAsync(index, partition, bound, channel.Writer, stop.Token);
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                    await stop.CancelAsync();
                    if (Interlocked.Exchange(ref held, -1) >= 0)
                    {
                        Interlocked.Decrement(ref active); // the held partition will not start now
                    }
                }
                finally
                {
                    if (Interlocked.Decrement(ref active) == 0)
                    {
                        // The first partition's own error, not an AggregateException: callers act on ZohoApiException's kind.
                        channel.Writer.TryComplete(Together.FirstError(errors));
                    }
                }
            }, CancellationToken.None));
        }

        // Call slots of finished partitions (a resumed load's too), never more than the planned concurrency.
        var idle = Math.Max(0, Math.Min(partitions.Count, Math.Max(1, options.Partitions)) - (active - (held >= 0 ? 1 : 0)));
        for (var i = 0; i < partitions.Count; i++)
        {
            if (!partitions[i].Done && i != held)
            {
                Start(i);
            }
        }

        if (workers.Count == 0 && Interlocked.Exchange(ref held, -1) is >= 0 and var alone)
        {
            Start(alone);
        }

        try
        {
            if (opening is not null)
            {
                yield return opening;
            }

            await foreach (var (index, records, partitionState, page) in channel.Reader.ReadAllAsync(cancellationToken))
            {
                // A split may have moved this partition's end since the worker sent its state.
                partitions[index] = partitionState with { End = ValueConverter.Iso(bounds[index].CurrentEnd) };
                idle += partitionState.Done ? 1 : 0;

                // A finished partition's call slot stays free until a split is worth making: the
                // busiest partition's page estimate may only become telling pages later.
                while (idle > 0 && splitsLeft > 0 && SplitBusiest(partitions, bounds, SplitMin(state.Total), ref active) is { } added)
                {
                    idle--;
                    splitsLeft--;
                    Start(added);
                }

                if (idle > 0 && Interlocked.Exchange(ref held, -1) is >= 0 and var last)
                {
                    idle--;
                    Start(last);
                }

                var current = state with { Partitions = [.. partitions] };
                yield return new SnapshotBatch(records, Serialize(current), partitions.All(p => p.Done)) { Total = state.Total, Pages = page };
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            while (channel.Reader.TryRead(out var unread))
            {
                unread.Page?.Dispose();
            }
        }
    }

    private async Task ReadPartitionAsync(int index, PartitionState partition, Bound bound, ChannelWriter<(int, List<JsonElement>, PartitionState, JsonDocument?)> output, CancellationToken ct)
    {
        var walk = new TimeCursor(Walk, Parse(partition.Start), new WalkPosition(partition.Cursor is { } c ? Parse(c) : null, partition.From, partition.Seen, partition.Drill));
        while (true)
        {
            // The page goes to the sink with the records that point into it (SnapshotBatch.Pages).
            var page = await SearchAsync(walk.Query(bound.CurrentEnd + Tick), ct);
            var records = DeskClient.View(page);
            List<JsonElement> accepted;
            DateTimeOffset end;
            bool done;
            lock (bound)
            {
                // Under the bound's lock: a split cannot move the end between this filter and the cursor.
                end = bound.End;
                var taken = walk.Take([.. records.Select(r => WalkKey(r, walk.Drilling))], end);
                accepted = [.. taken.Accepted.Select(i => records[i])];
                done = taken.Done;
                if (walk.LastSpan > TimeSpan.Zero)
                {
                    bound.PageSpan = walk.LastSpan;
                }

                bound.Cursor = walk.Cursor;
                bound.Done = done;
            }

            try
            {
                accepted = await DetailedAsync(accepted, ct);
                var at = walk.Position;
                var state = new PartitionState(partition.Start, ValueConverter.Iso(end), ValueConverter.Iso(walk.Cursor), at.From, done, done ? null : [.. at.Seen!], done ? null : at.Drill);
                await output.WriteAsync((index, accepted, state, page), ct);
            }
            catch
            {
                page?.Dispose();
                throw;
            }

            if (done)
            {
                return;
            }
        }
    }

    /// <summary>In detail mode, each record as its own detail call gives it (no call for no records); otherwise the records as they are.</summary>
    private async Task<List<JsonElement>> DetailedAsync(List<JsonElement> records, CancellationToken ct)
    {
        if (!options.DetailMode || records.Count == 0)
        {
            return records;
        }

        var details = await Task.WhenAll(records.Select(async r =>
        {
            using var doc = await client.GetAsync($"{table.Path}/{Uri.EscapeDataString(Keys(r).Id)}", label: label ?? table.Name, cancellationToken: ct);
            return doc?.RootElement.Clone() ?? r;
        }));
        return [.. details];
    }

    /// <summary>Two calls in flight together: both answers, or the first one's own error once neither is running (an answer that came is disposed).</summary>
    private static async Task<(JsonDocument? A, JsonDocument? B)> BothAsync(Task<JsonDocument?> a, Task<JsonDocument?> b)
    {
        try
        {
            await Together.WhenAllAsync([a, b]);
        }
        catch
        {
            (a.IsCompletedSuccessfully ? a.Result : null)?.Dispose();
            (b.IsCompletedSuccessfully ? b.Result : null)?.Dispose();
            throw;
        }

        return (a.Result, b.Result);
    }

    /// <summary>The two pages a fresh start's first batch points into.</summary>
    private sealed class PagePair(IDisposable? a, IDisposable? b) : IDisposable
    {
        public void Dispose()
        {
            a?.Dispose();
            b?.Dispose();
        }
    }

    private Task<JsonDocument?> SearchAsync(string start, string end, string sortBy, int from, int limit, CancellationToken ct) =>
        SearchAsync(
            [
                new("createdTimeRange", $"{start},{end}"),
                new("sortBy", sortBy),
                new("from", from.ToString(CultureInfo.InvariantCulture)),
                new("limit", limit.ToString(CultureInfo.InvariantCulture)),
            ],
            ct);

    private Task<JsonDocument?> SearchAsync(List<KeyValuePair<string, string?>> query, CancellationToken ct) =>
        client.GetAsync(table.SearchPath, query, label: label ?? table.Name, expectedWeight: 3, cancellationToken: ct);

    /// <summary>The walk of a partition: by createdTime, a crowded millisecond drilled by modifiedTime up to a day past the load's start.</summary>
    private TimeWalk Walk => field ??= new TimeWalk("createdTime", "modifiedTime", table.PageSize, $"{table.DisplayName} created", time.GetUtcNow().AddDays(1));

    /// <summary>A record's createdTime and id, found in one pass.</summary>
    private (DateTimeOffset Created, string Id) Keys(JsonElement record)
    {
        JsonRecord.Find(record, "createdTime"u8, out var created, "id"u8, out var id);
        return (created is { } c && ValueConverter.ToTimestamp(c) is { } t ? t : throw new InvalidDataException($"{table.DisplayName}: Zoho answered a record without a createdTime."),
            JsonRecord.Id(id, table.DisplayName));
    }

    /// <summary>A record as the walk sees it: createdTime, modifiedTime (only looked for when drilling) and id.</summary>
    private WalkKey WalkKey(JsonElement record, bool drilling)
    {
        var (created, id) = Keys(record);
        return new WalkKey(created, drilling && JsonRecord.TryGetFirst(record, "modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null, id);
    }

    private static long Count(JsonElement c) => c.ValueKind == JsonValueKind.Number ? c.GetInt64() : long.Parse(c.GetString()!, CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string iso) => ValueConverter.ParseTime(iso);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string Serialize(SearchState state) => JsonSerializer.Serialize(state, Json);

    /// <param name="Latest">The newest createdTime when the load was planned: splits look no further (what comes later was created during the load).</param>
    internal sealed record SearchState(string End, List<PartitionState>? Partitions, long? Total = null, string? Latest = null);

    /// <param name="Seen">Ids already emitted at the cursor's millisecond (and the one before), which the next page returns again: kept in the checkpoint so that a resumed load does not write them twice.</param>
    /// <param name="Drill">A drill through a crowded millisecond under way (or just done) at the cursor.</param>
    internal sealed record PartitionState(string Start, string End, string? Cursor, int From, bool Done, List<string>? Seen = null, WalkDrill? Drill = null);
}
