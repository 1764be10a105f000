using System.Runtime.CompilerServices;
using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// Modules whose list is thin and that have no search (contracts): GET /{module} for the ids,
/// then GET /{module}/{id} for each. A poll lists newest-modified first and reads details until
/// one is older than the watermark.
/// </summary>
public sealed class ListThenDetailRead : StreamRead
{
    public override string Method => "list, then each record by id";

    public override async IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, [EnumeratorCancellation] CancellationToken ct)
    {
        var (client, stream) = (reading.Client, reading.Stream);
        var ids = new List<string>();
        await foreach (var record in client.ListAsync(stream.Path, stream.PageSize, label: reading.Label, cancellationToken: ct))
        {
            ids.Add(record.GetProperty("id").ToString());
        }

        foreach (var chunk in ids.Chunk(stream.PageSize))
        {
            var details = await Task.WhenAll(chunk.Select(async id =>
            {
                using var doc = await client.GetAsync(stream.RecordPath(id), label: reading.Label, cancellationToken: ct);
                return doc?.RootElement.Clone();
            }));
            yield return new SnapshotBatch([.. details.OfType<JsonElement>()], ListRead.NotDone, Complete: false);
        }

        yield return new SnapshotBatch([], ListRead.Done, Complete: true);
    }

    public override async IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, [EnumeratorCancellation] CancellationToken ct)
    {
        var (client, stream) = (reading.Client, reading.Stream);
        await foreach (var item in client.ListAsync(stream.Path, stream.PageSize, [new("sortBy", "-modifiedTime")], label: reading.Label, cancellationToken: ct))
        {
            using var detail = await client.GetAsync(stream.RecordPath(item.GetProperty("id").ToString()), label: reading.Label, cancellationToken: ct);
            if (detail is null)
            {
                continue;
            }

            var record = detail.RootElement.Clone();
            var modified = record.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : null;
            if (modified is { } t && t < since)
            {
                yield break; // everything after this one is older still
            }

            yield return [Polled(stream, record)];
        }
    }
}
