using System.Globalization;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// The walk of a search sorted by a time field (createdTime for a load, modifiedTime for a poll),
/// shared by both. Each page is asked for from the cursor's millisecond less one, at offset 0,
/// and the cursor moves to the page's newest time, so no call needs an offset past 999 however
/// large the range. A full page within one millisecond is stepped through by offset (Zoho serves
/// offsets up to 999). The ids met at the cursor's millisecond and the one before are kept, so a
/// record that comes again at the boundary is taken once; a checkpoint keeps them as the cursor's.
/// When offsets run out (a bulk import or update puts a thousand records in one millisecond), the
/// walk drills through that millisecond: it narrows the range to it and walks the other time field
/// the same way (both ranges are filters of every search), then goes on past it.
/// </summary>
public sealed class TimeCursor
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private static readonly DateTimeOffset Beginning = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly Dictionary<string, DateTimeOffset> _seen;
    private readonly TimeWalk _walk;
    private Drill? _drill;

    // Whether Zoho's ranges include their bounds (unknown): proven by a record at the millisecond a page was asked from.
    private bool _inclusive;

    /// <param name="start">Records before this are not the walk's (a partition's start, a poll's since).</param>
    /// <param name="at">Where a resumed walk stands (null: at the start).</param>
    public TimeCursor(TimeWalk walk, DateTimeOffset start, WalkPosition? at = null)
    {
        _walk = walk;
        Start = start;
        Cursor = at?.Cursor ?? start;
        From = at?.From ?? 0;
        _seen = (at?.Seen ?? []).ToDictionary(id => id, _ => Cursor, StringComparer.Ordinal);
        if (at?.Drill is { } d)
        {
            _drill = new Drill(ValueConverter.ParseTime(d.At), d.Cursor is { } c ? ValueConverter.ParseTime(c) : null, d.From, d.Done, d.Exact);
            _inclusive = d.Exact;
        }
    }

    public DateTimeOffset Start { get; }

    public DateTimeOffset Cursor { get; private set; }

    public int From { get; private set; }

    /// <summary>Whether the next page is a drill's (sorted by the other field, whose times <see cref="Take"/> then needs).</summary>
    public bool Drilling => _drill is { Done: false };

    /// <summary>The time span the last page that moved the cursor covered (zero before one).</summary>
    public TimeSpan LastSpan { get; private set; }

    /// <summary>What a checkpoint keeps: the cursor, the offset, the ids at the cursor's millisecond or the one before, and a drill under way.</summary>
    public WalkPosition Position => new(Cursor, From, [.. _seen.Keys],
        _drill is { } d ? new WalkDrill(ValueConverter.Iso(d.At), d.Cursor is { } c ? ValueConverter.Iso(c) : null, d.From, d.Done, d.Exact) : null);

    /// <summary>Where the next page's range starts (past a drilled millisecond once its drill is done).</summary>
    private DateTimeOffset QueryStart => _drill is { Done: true } d
        ? d.At + (_inclusive ? Tick : TimeSpan.Zero)
        : (Cursor > Start ? Cursor : Start) - Tick;

    /// <summary>The next page's search parameters; <paramref name="end"/> is where the walk's range ends as asked (a margin included).</summary>
    public List<KeyValuePair<string, string?>> Query(DateTimeOffset end)
    {
        if (_drill is { Done: false } d)
        {
            // Within the millisecond (with a margin each side until Zoho's bounds are known to be inclusive), sorted by the other field.
            var margin = d.Exact ? TimeSpan.Zero : Tick;
            return
            [
                new($"{_walk.Field}Range", Range(d.At - margin, d.At + margin)),
                new($"{_walk.OtherField}Range", Range(d.Cursor is { } c ? c - Tick : Beginning, _walk.OtherEnd)),
                new("sortBy", _walk.OtherField),
                new("from", d.From.ToString(CultureInfo.InvariantCulture)),
                new("limit", _walk.PageSize.ToString(CultureInfo.InvariantCulture)),
            ];
        }

        return
        [
            new($"{_walk.Field}Range", Range(QueryStart, end)),
            new("sortBy", _walk.Field),
            new("from", From.ToString(CultureInfo.InvariantCulture)),
            new("limit", _walk.PageSize.ToString(CultureInfo.InvariantCulture)),
        ];
    }

    /// <summary>
    /// Takes the page <see cref="Query"/> asked for (each record's times and id, in the answer's
    /// order): returns the indexes of the records that are the walk's (within [start, end] and not
    /// taken before) and whether the walk is over (a short page, or one that ran past the end).
    /// Throws when more records share one millisecond of both fields than Zoho's offsets reach.
    /// </summary>
    public (List<int> Accepted, bool Done) Take(IReadOnlyList<WalkKey> page, DateTimeOffset end) =>
        _drill is { Done: false } drill ? (TakeDrilled(drill, page, end), false) : TakeWalked(page, end);

    private (List<int> Accepted, bool Done) TakeWalked(IReadOnlyList<WalkKey> page, DateTimeOffset end)
    {
        var askedFrom = QueryStart;
        var accepted = new List<int>(page.Count);
        for (var i = 0; i < page.Count; i++)
        {
            _inclusive |= page[i].Time == askedFrom;
            if (page[i].Time >= Start && page[i].Time <= end && _seen.TryAdd(page[i].Id, page[i].Time))
            {
                accepted.Add(i);
            }
        }

        var newest = page.Count > 0 ? page.Max(k => k.Time) : Cursor;
        if (page.Count < _walk.PageSize || newest > end)
        {
            return (accepted, true);
        }

        if (QueryStart != askedFrom)
        {
            // Asked from a drilled millisecond, whose records came again: ranges include their start, so ask from past it.
            From = 0;
            return (accepted, false);
        }

        if (newest <= Cursor)
        {
            if (From + _walk.PageSize > DeskClient.SearchOffsetMax)
            {
                // Every record before the cursor's millisecond is taken (the answer is sorted): drill through that millisecond.
                _drill = new Drill(Cursor, null, 0, false, _inclusive);
                From = 0;
            }
            else
            {
                From += _walk.PageSize;
            }

            return (accepted, false);
        }

        LastSpan = newest - (Cursor > Start ? Cursor : Start);
        Cursor = newest;
        From = 0;
        _drill = null;
        // Only records at the new cursor's millisecond (or the one before) can come again. Those of
        // this page are all here; when the cursor moved by one millisecond, the old cursor's records
        // may have come on earlier pages too (a millisecond of more than a page), and they stay.
        var keep = Cursor - Tick;
        foreach (var key in page)
        {
            _seen.TryAdd(key.Id, key.Time);
        }

        foreach (var (id, time) in _seen)
        {
            if (time < keep)
            {
                _seen.Remove(id);
            }
        }

        return (accepted, false);
    }

    /// <summary>A page of the drilled millisecond sorted by the other field: the same walk, one field over.</summary>
    private List<int> TakeDrilled(Drill drill, IReadOnlyList<WalkKey> page, DateTimeOffset end)
    {
        var accepted = new List<int>(page.Count);
        for (var i = 0; i < page.Count; i++)
        {
            if (page[i].Time == drill.At && page[i].Time >= Start && page[i].Time <= end && _seen.TryAdd(page[i].Id, drill.At))
            {
                accepted.Add(i);
            }
        }

        var floor = drill.Cursor ?? Beginning;
        var newest = page.Count > 0 ? page.Max(k => k.Other ?? floor) : floor;
        if (page.Count < _walk.PageSize)
        {
            _drill = drill with { Done = true };
        }
        else if (newest > floor)
        {
            _drill = drill with { Cursor = newest, From = 0 };
        }
        else if (drill.From + _walk.PageSize > DeskClient.SearchOffsetMax)
        {
            throw new ZohoApiException(ZohoFailureKind.OffsetLimit,
                $"{_walk.What}: more than {DeskClient.SearchOffsetMax + 1} records share the {_walk.Field} {ValueConverter.Iso(drill.At)} and the {_walk.OtherField} {ValueConverter.Iso(floor)}; Zoho's search cannot page past them.");
        }
        else
        {
            _drill = drill with { From = drill.From + _walk.PageSize };
        }

        return accepted;
    }

    private static string Range(DateTimeOffset start, DateTimeOffset end) => $"{ValueConverter.Iso(start)},{ValueConverter.Iso(end)}";

    private sealed record Drill(DateTimeOffset At, DateTimeOffset? Cursor, int From, bool Done, bool Exact);
}

/// <summary>What a time walk reads: the time field it walks (its search's range and sort), the other time field a crowded millisecond is drilled by, its page size, and the name its errors give.</summary>
/// <param name="OtherEnd">The latest the other field is asked for in a drill (what changes later is a later poll's).</param>
public sealed record TimeWalk(string Field, string OtherField, int PageSize, string What, DateTimeOffset OtherEnd);

/// <summary>A record as the walk sees it: its time in the walk's field, in the other field, and its id.</summary>
public readonly record struct WalkKey(DateTimeOffset Time, DateTimeOffset? Other, string Id);

/// <summary>Where a walk stands, for a checkpoint.</summary>
public sealed record WalkPosition(DateTimeOffset? Cursor, int From, IReadOnlyCollection<string>? Seen, WalkDrill? Drill = null);

/// <summary>A drill through one crowded millisecond (ISO times), for a checkpoint.</summary>
/// <param name="Exact">The range asks for the millisecond alone (Zoho's bounds proven inclusive), not with a margin each side.</param>
public sealed record WalkDrill(string At, string? Cursor, int From, bool Done, bool Exact);
