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
/// </summary>
public sealed class TimeCursor
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private readonly Dictionary<string, DateTimeOffset> _seen;
    private readonly int _pageSize;
    private readonly string _what;

    /// <param name="start">Records before this are not the walk's (a partition's start, a poll's since).</param>
    /// <param name="cursor">Where a resumed walk stands (null: at the start).</param>
    /// <param name="from">The offset within the cursor's millisecond a resumed walk stands at.</param>
    /// <param name="seen">Ids taken at the cursor's millisecond, from a checkpoint.</param>
    /// <param name="what">What the walk reads, for the error past the offset wall: "Tickets created".</param>
    public TimeCursor(DateTimeOffset start, DateTimeOffset? cursor, int from, IEnumerable<string>? seen, int pageSize, string what)
    {
        Start = start;
        Cursor = cursor ?? start;
        From = from;
        _pageSize = pageSize;
        _what = what;
        _seen = (seen ?? []).ToDictionary(id => id, _ => Cursor, StringComparer.Ordinal);
    }

    public DateTimeOffset Start { get; }

    public DateTimeOffset Cursor { get; private set; }

    public int From { get; private set; }

    /// <summary>The time span the last page that moved the cursor covered (zero before one).</summary>
    public TimeSpan LastSpan { get; private set; }

    /// <summary>The ids a checkpoint keeps: those at the cursor's millisecond or the one before.</summary>
    public IReadOnlyCollection<string> Seen => _seen.Keys;

    /// <summary>Where the next page's range starts.</summary>
    public DateTimeOffset QueryStart => (Cursor > Start ? Cursor : Start) - Tick;

    /// <summary>
    /// Takes a page (each record's time and id, in the answer's order): returns the indexes of the
    /// records that are the walk's (within [start, end] and not taken before) and whether the walk
    /// is over (a short page, or one that ran past the end). Throws when more records share one
    /// millisecond than Zoho's offsets reach.
    /// </summary>
    public (List<int> Accepted, bool Done) Take(IReadOnlyList<(DateTimeOffset Time, string Id)> page, DateTimeOffset end)
    {
        var accepted = new List<int>(page.Count);
        for (var i = 0; i < page.Count; i++)
        {
            if (page[i].Time >= Start && page[i].Time <= end && _seen.TryAdd(page[i].Id, page[i].Time))
            {
                accepted.Add(i);
            }
        }

        var newest = page.Count > 0 ? page.Max(k => k.Time) : Cursor;
        if (page.Count < _pageSize || newest > end)
        {
            return (accepted, true);
        }

        if (newest <= Cursor)
        {
            From += _pageSize;
            if (From > DeskClient.SearchOffsetMax)
            {
                throw new ZohoApiException(ZohoFailureKind.OffsetLimit,
                    $"{_what}: more than {DeskClient.SearchOffsetMax + 1} records share the millisecond {ValueConverter.Iso(Cursor)}; Zoho's search cannot page past them.");
            }

            return (accepted, false);
        }

        LastSpan = newest - (Cursor > Start ? Cursor : Start);
        Cursor = newest;
        From = 0;
        // Only records at the new cursor's millisecond (or the one before) can come again. Those of
        // this page are all here; when the cursor moved by one millisecond, the old cursor's records
        // may have come on earlier pages too (a millisecond of more than a page), and they stay.
        var keep = Cursor - Tick;
        foreach (var (time, id) in page)
        {
            _seen.TryAdd(id, time);
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
}
