using System.Globalization;
using DeskSync.Core;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.Tests.Streams;

/// <summary>The one time-cursor walk of the full load and the poller, against an in-memory search that answers as Zoho's does (both time ranges as filters, sorted by one time then id, offsets up to 999).</summary>
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

        var (taken, calls) = Walk(records, Cursor(T0), records[^1].Time);

        Assert.Equal(records.Select(r => r.Id).Order(), taken.Order());
        Assert.True(calls <= records.Count / PageSize + 12, $"{calls} calls for {records.Count} records");
    }

    [Fact]
    public void Close_to_a_thousand_records_in_one_millisecond_are_paged_by_offset_up_to_999()
    {
        // The page asks from the cursor's millisecond less one, so that millisecond's record counts towards the 1,000 offsets too.
        var records = Spread(200, burstAt: [(100, 990)]);

        var (taken, _) = Walk(records, Cursor(T0), records[^1].Time);

        Assert.Equal(records.Select(r => r.Id).Order(), taken.Order());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void More_than_a_thousand_records_in_one_millisecond_are_drilled_by_the_other_time_field(bool inclusive)
    {
        // A bulk update: 2,500 records share one millisecond; each has its own other time, some shared too.
        var records = Spread(400, burstAt: [(150, 2_500), (300, 40)]);

        var (taken, calls) = Walk(records, Cursor(T0), records[^1].Time, inclusive);

        Assert.Equal(records.Select(r => r.Id).Order(), taken.Order());
        Assert.True(calls <= records.Count / PageSize + 20, $"{calls} calls for {records.Count} records");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Two_crowded_milliseconds_side_by_side_are_each_taken_once(bool inclusive)
    {
        // 700 records in one millisecond and 1,200 in the next: asking from the cursor's millisecond less one puts both in one range.
        var records = Spread(300, burstAt: [(100, 700)]);
        var next = records.First(r => r.Id == "b100-0").Time.AddMilliseconds(1);
        records.InsertRange(records.FindLastIndex(r => r.Time < next) + 1, Enumerable.Range(0, 1_200).Select(n => new Row(next, T0.AddMinutes(-n % 900), $"c{n}")));
        Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Time <= p.Second.Time));

        var (taken, _) = Walk(records, Cursor(T0), records[^1].Time, inclusive);

        Assert.Equal(records.Select(r => r.Id).Order(), taken.Order());
    }

    [Fact]
    public void More_than_a_thousand_records_sharing_both_times_stop_with_the_offset_wall_named()
    {
        var records = Spread(200, burstAt: [(100, 1_001)]).Select(r => r.Id.StartsWith('b') ? r with { Other = T0 } : r).ToList();
        var walk = new TimeCursor(new TimeWalk("modifiedTime", "createdTime", PageSize, "Calls modified", T0.AddYears(1)), T0);

        var error = Assert.Throws<ZohoApiException>(() => Walk(records, walk, records[^1].Time));

        Assert.Equal(ZohoFailureKind.OffsetLimit, error.Kind);
        Assert.Contains("Calls modified", error.Message);
        Assert.Contains("1000 records share the modifiedTime", error.Message);
        Assert.Contains($"createdTime {ValueConverter.Iso(T0)}", error.Message);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(14)]
    [InlineData(30)]
    public void A_walk_resumed_from_its_checkpoint_takes_the_rest_once(int pagesBefore)
    {
        // 14 pages in: within the drill of the 2,400-record millisecond; 30: past it.
        var records = Spread(1_000, burstAt: [(300, 250), (500, 2_400)]);
        var first = Cursor(T0);
        var end = records[^1].Time;
        var takenBefore = new List<string>();
        for (var page = 0; page < pagesBefore; page++)
        {
            takenBefore.AddRange(Step(records, first, end, inclusive: true).Taken);
        }

        // What a checkpoint keeps, through JSON as it is stored; nothing else survives.
        var position = System.Text.Json.JsonSerializer.Deserialize<WalkPosition>(System.Text.Json.JsonSerializer.Serialize(first.Position))!;
        var (takenAfter, _) = Walk(records, Cursor(T0, position), end);

        var all = takenBefore.Concat(takenAfter).ToList();
        Assert.Equal(records.Select(r => r.Id).Order(), all.Order());
    }

    [Fact]
    public void Records_outside_the_walks_range_are_not_taken()
    {
        var records = Spread(600, burstAt: []);
        var start = records[100].Time;
        var end = records[400].Time;

        var (taken, _) = Walk(records, Cursor(start), end);

        var expected = records.Where(r => r.Time >= start && r.Time <= end).Select(r => r.Id).ToList();
        Assert.Equal(expected.Order(), taken.Order());
    }

    private static TimeCursor Cursor(DateTimeOffset start, WalkPosition? at = null) =>
        new(new TimeWalk("t", "o", PageSize, "test", T0.AddYears(1)), start, at);

    private static (List<string> Taken, int Calls) Walk(List<Row> records, TimeCursor walk, DateTimeOffset end, bool inclusive = true)
    {
        var taken = new List<string>();
        var calls = 0;
        while (true)
        {
            calls++;
            Assert.True(calls < 10_000, "the walk does not end");
            var (ids, done) = Step(records, walk, end, inclusive);
            taken.AddRange(ids);
            if (done)
            {
                return (taken, calls);
            }
        }
    }

    /// <summary>One search call: the walk's query answered from the records (ranges inclusive or exclusive of their bounds), sorted by the asked time then id.</summary>
    private static (List<string> Taken, bool Done) Step(List<Row> records, TimeCursor walk, DateTimeOffset end, bool inclusive)
    {
        var query = walk.Query(end.AddMilliseconds(1)).ToDictionary(p => p.Key, p => p.Value!);
        var from = int.Parse(query["from"], CultureInfo.InvariantCulture);
        Assert.InRange(from, 0, DeskClient.SearchOffsetMax);
        var matches = records.AsEnumerable();
        foreach (var (name, value) in query.Where(p => p.Key.EndsWith("Range", StringComparison.Ordinal)))
        {
            var bounds = value.Split(',').Select(ValueConverter.ParseTime).ToArray();
            matches = matches.Where(r => In(TimeOf(r, name[..^"Range".Length]), bounds[0], bounds[1], inclusive));
        }

        var sortBy = query["sortBy"];
        var page = matches.OrderBy(r => TimeOf(r, sortBy)).ThenBy(r => r.Id, StringComparer.Ordinal).Skip(from).Take(PageSize).ToList();
        var (accepted, done) = walk.Take([.. page.Select(r => IsOther(sortBy) ? new WalkKey(r.Time, r.Other, r.Id) : new WalkKey(r.Time, null, r.Id))], end);
        return ([.. accepted.Select(i => page[i].Id)], done);
    }

    private static bool IsOther(string field) => field is "o" or "createdTime";

    private static DateTimeOffset TimeOf(Row r, string field) => IsOther(field) ? r.Other : r.Time;

    private static bool In(DateTimeOffset t, DateTimeOffset lo, DateTimeOffset hi, bool inclusive) =>
        inclusive ? t >= lo && t <= hi : t > lo && t < hi;

    /// <summary>Records a few milliseconds apart, sorted, with bursts of records in one millisecond after the given index; other times spread over the year before.</summary>
    private static List<Row> Spread(int count, (int After, int Size)[] burstAt)
    {
        var random = new Random(7);
        var list = new List<Row>();
        var t = T0;
        for (var i = 0; i < count; i++)
        {
            t = t.AddMilliseconds(random.Next(1, 5));
            list.Add(new Row(t, T0.AddSeconds(-random.Next(1, 30_000_000)), $"r{i}"));
            foreach (var (after, size) in burstAt.Where(b => b.After == i))
            {
                t = t.AddMilliseconds(1);
                var burstTime = t;
                // Some records of a burst share their other time too (imported together), a few dozen at most.
                list.AddRange(Enumerable.Range(0, size).Select(n => new Row(burstTime, T0.AddMilliseconds(-random.Next(1, size)), $"b{i}-{n}")));
            }
        }

        return list;
    }

    private sealed record Row(DateTimeOffset Time, DateTimeOffset Other, string Id);
}
