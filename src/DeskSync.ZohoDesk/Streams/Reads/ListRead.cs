using System.Runtime.CompilerServices;
using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// Small modules without search whose list answer is the complete record (departments, agents):
/// GET /{module} page by page. A resumed load reads an unfinished one again from its start; a poll
/// reads it whole.
/// </summary>
public sealed class ListRead : StreamRead
{
    public override string Method => "list; polled whole";

    internal const string Done = """{"done":true}""";
    internal const string NotDone = """{"done":false}""";

    public override bool PollsEverything => true;

    public override async IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, [EnumeratorCancellation] CancellationToken ct)
    {
        var stream = reading.Stream;
        var batch = new List<JsonElement>(stream.PageSize);
        await foreach (var record in reading.Client.ListAsync(stream.Path, stream.PageSize, label: reading.Label, cancellationToken: ct))
        {
            batch.Add(record);
            if (batch.Count == stream.PageSize)
            {
                yield return new SnapshotBatch(batch, NotDone, Complete: false);
                batch = new List<JsonElement>(stream.PageSize);
            }
        }

        yield return new SnapshotBatch(batch, Done, Complete: true);
    }

    public override IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, CancellationToken ct) =>
        Whole(this, reading, ct);

    /// <summary>A poll that reads the table whole.</summary>
    internal static async IAsyncEnumerable<IReadOnlyList<ChangeEvent>> Whole(StreamRead read, StreamReading reading, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var batch in read.LoadAsync(reading, null, ct))
        {
            yield return [.. batch.Records.Select(r => Polled(reading.Stream, r))];
        }
    }
}
