using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.Tests.Streams;

/// <summary>The one time-cursor walk of the full load and the poller, against an in-memory search that answers as Zoho's does (inclusive range, sorted by time, offsets up to 999).</summary>
[Trait(Lanes.Key, Lanes.Fast)]
public sealed class TimeCursorTests
{
    private const int PageSize = 100;
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_record_is_taken_once_across_bursts_that_fill_several_pages_in_one_millisecond()
    {
        // 3,000 records: most a few ms apart, with bursts of 150 and 420 records in a single millisecond.
        var records = Spread(3_000, burstAt: [(500, 150), (1_800, 420)]);

        var (taken, calls) = Walk(records, new TimeCursor(T0, null, 0, null, PageSize, "test"), records[^1].Time);

        Assert.Equal(records.Select(r => r.Id).Order(), taken.Order());
        Assert.Equal(records.Count, taken.Distinct().Count());
        Assert.True(calls <= records.Count / PageSize + 12, $"{calls} calls for {records.Count} records");
    }

    [Fact]
    public void Close_to_a_thousand_records_in_one_millisecond_are_paged_by_offset_up_to_999()
    {
        // The page asks from the cursor's millisecond less one, so that millisecond's record counts towards the 1,000 offsets too.
        var records = Spread(200, burstAt: [(100, 990)]);

        var (taken, _) = Walk(records, new TimeCursor(T0, null, 0, null, PageSize, "test"), records[^1].Time);

        Assert.Equal(records.Count, taken.Count);
        Assert.Equal(records.Count, taken.Distinct().Count());
    }

    [Fact]
    public void More_than_a_thousand_records_in_one_millisecond_stop_with_the_offset_wall_named()
    {
        var records = Spread(200, burstAt: [(100, 1_001)]);
        var walk = new TimeCursor(T0, null, 0, null, PageSize, "Calls created");

        var error = Assert.Throws<ZohoApiException>(() => Walk(records, walk, records[^1].Time));

        Assert.Equal(ZohoFailureKind.OffsetLimit, error.Kind);
        Assert.Contains("Calls created", error.Message);
        Assert.Contains("1000 records share the millisecond", error.Message);
    }

    [Fact]
    public void A_walk_resumed_from_its_checkpoint_takes_the_rest_once()
    {
        var records = Spread(1_000, burstAt: [(300, 250)]);
        var first = new TimeCursor(T0, null, 0, null, PageSize, "test");
        var end = records[^1].Time;
        var takenBefore = new List<string>();
        for (var page = 0; page < 5; page++)
        {
            takenBefore.AddRange(Step(records, first, end).Taken);
        }

        // What a checkpoint keeps: cursor, offset and the boundary ids; nothing else survives.
        var resumed = new TimeCursor(T0, first.Cursor, first.From, [.. first.Seen], PageSize, "test");
        var (takenAfter, _) = Walk(records, resumed, end);

        var all = takenBefore.Concat(takenAfter).ToList();
        Assert.Equal(records.Count, all.Count);
        Assert.Equal(records.Count, all.Distinct().Count());
    }

    [Fact]
    public void Records_outside_the_walks_range_are_not_taken()
    {
        var records = Spread(600, burstAt: []);
        var start = records[100].Time;
        var end = records[400].Time;

        var (taken, _) = Walk(records, new TimeCursor(start, null, 0, null, PageSize, "test"), end);

        var expected = records.Where(r => r.Time >= start && r.Time <= end).Select(r => r.Id).ToList();
        Assert.Equal(expected.Order(), taken.Order());
    }

    private static (List<string> Taken, int Calls) Walk(List<(DateTimeOffset Time, string Id)> records, TimeCursor walk, DateTimeOffset end)
    {
        var taken = new List<string>();
        var calls = 0;
        while (true)
        {
            calls++;
            var (ids, done) = Step(records, walk, end);
            taken.AddRange(ids);
            if (done)
            {
                return (taken, calls);
            }
        }
    }

    /// <summary>One search call: [QueryStart, end + 1 ms] sorted by time, from the walk's offset.</summary>
    private static (List<string> Taken, bool Done) Step(List<(DateTimeOffset Time, string Id)> records, TimeCursor walk, DateTimeOffset end)
    {
        Assert.InRange(walk.From, 0, DeskClient.SearchOffsetMax);
        var page = records.Where(r => r.Time >= walk.QueryStart && r.Time <= end.AddMilliseconds(1)).Skip(walk.From).Take(PageSize).ToList();
        var (accepted, done) = walk.Take(page, end);
        return ([.. accepted.Select(i => page[i].Id)], done);
    }

    /// <summary>Records a few milliseconds apart, sorted, with bursts of records in one millisecond after the given index.</summary>
    private static List<(DateTimeOffset Time, string Id)> Spread(int count, (int After, int Size)[] burstAt)
    {
        var random = new Random(7);
        var list = new List<(DateTimeOffset, string)>();
        var t = T0;
        for (var i = 0; i < count; i++)
        {
            t = t.AddMilliseconds(random.Next(1, 5));
            list.Add((t, $"r{i}"));
            foreach (var (after, size) in burstAt.Where(b => b.After == i))
            {
                t = t.AddMilliseconds(1);
                list.AddRange(Enumerable.Range(0, size).Select(n => (t, $"b{i}-{n}")));
            }
        }

        return list;
    }
}
