using System.Runtime.CompilerServices;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>Modules Zoho answers in one unpaged answer under a key of their own (GET /teams answers {"teams":[…]}).</summary>
public sealed class SingleAnswerRead(string itemsKey) : StreamRead
{
    public override string Method => "one answer; polled whole";

    public override bool PollsEverything => true;

    public override async IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, [EnumeratorCancellation] CancellationToken ct)
    {
        using var doc = await reading.Client.GetAsync(reading.Stream.Path, label: reading.Label, cancellationToken: ct);
        yield return new SnapshotBatch(DeskClient.Items(doc, itemsKey), ListRead.Done, Complete: true);
    }

    public override IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, CancellationToken ct) =>
        ListRead.Whole(this, reading, ct);
}
