using System.Globalization;
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

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    public override IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, CancellationToken ct) =>
        new CreatedTimeSearchReader(reading.Client, reading.Stream, reading.Options with { Partitions = Math.Min(reading.Options.Partitions, reading.Client.Options.MaxConcurrency) }, reading.Time)
            .ReadAsync(state, ct);

    public override async IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken ct)
    {
        var stream = reading.Stream;
        var cursor = since;
        var from = 0;
        while (true)
        {
            using var page = await reading.Client.GetAsync(stream.SearchPath,
                [
                    new("modifiedTimeRange", $"{ValueConverter.Iso(cursor - Tick)},{ValueConverter.Iso(until)}"),
                    new("sortBy", "modifiedTime"),
                    new("from", from.ToString(CultureInfo.InvariantCulture)),
                    new("limit", stream.PageSize.ToString(CultureInfo.InvariantCulture)),
                ],
                label: stream.Name, expectedWeight: 3, cancellationToken: ct);
            var records = DeskClient.Items(page);
            if (records.Count > 0)
            {
                yield return [.. records.Select(r => Polled(stream, r))];
            }

            var newest = records.Select(r => r.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null).Max() ?? cursor;
            if (records.Count < stream.PageSize)
            {
                yield break;
            }

            if (newest <= cursor)
            {
                // A whole page in the cursor's millisecond: page through it by offset.
                from += stream.PageSize;
                if (from > DeskClient.SearchOffsetMax)
                {
                    throw new ZohoApiException(ZohoFailureKind.OffsetLimit, $"{stream.DisplayName}: more than 1,000 records were modified in the same millisecond.");
                }
            }
            else
            {
                cursor = newest;
                from = 0;
            }
        }
    }
}
