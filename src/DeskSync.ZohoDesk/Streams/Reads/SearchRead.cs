using System.Text.Json;
using System.Runtime.CompilerServices;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// Modules with GET /{module}/search (tickets, contacts, accounts, products, tasks, calls,
/// events): search answers are complete records (modifiedTime, cf), and a time cursor never needs
/// an offset past 999. The load walks createdTime in parallel partitions; a poll walks
/// modifiedTime from the watermark.
/// </summary>
public sealed class SearchRead : StreamRead
{
    public override string Method => "search by createdTime; polled by modifiedTime";

    public override IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, CancellationToken ct) =>
        new CreatedTimeSearchReader(reading.Client, reading.Stream, reading.Options with { Partitions = Math.Min(reading.Options.Partitions, reading.Client.Options.MaxConcurrency) }, reading.Time, reading.Label)
            .ReadAsync(state, ct);

    public override async IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken ct)
    {
        var stream = reading.Stream;
        // A crowded millisecond is drilled by createdTime, which is never later than the poll's end.
        var walk = new TimeCursor(new TimeWalk("modifiedTime", "createdTime", stream.PageSize, $"{stream.DisplayName} modified", until), since);
        while (true)
        {
            using var page = await reading.Client.GetAsync(stream.SearchPath, walk.Query(until), label: reading.Label, expectedWeight: 3, cancellationToken: ct);
            var records = DeskClient.Items(page);
            // A record without a modifiedTime counts as at the start: it is taken, and never moves the cursor.
            var (accepted, done) = walk.Take([.. records.Select(r => new WalkKey(Time(r, "modifiedTime") ?? since, Time(r, "createdTime"), JsonRecord.Id(r.GetProperty("id"), stream.DisplayName)))], until);
            if (accepted.Count > 0)
            {
                yield return [.. accepted.Select(i => Polled(stream, records[i]))];
            }

            if (done)
            {
                yield break;
            }
        }
    }

    private static DateTimeOffset? Time(JsonElement record, string field) =>
        JsonRecord.TryGetFirst(record, field, out var t) ? ValueConverter.ToTimestamp(t) : null;
}
