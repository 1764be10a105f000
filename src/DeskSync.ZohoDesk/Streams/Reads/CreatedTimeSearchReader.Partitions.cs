using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams.Reads;
/// <summary>The plan of createdTime partitions, and the split that gives a finished partition's call slot to the busiest one's second half.</summary>
public sealed partial class CreatedTimeSearchReader
{
    /// <summary>
    /// The fewest pages a partition must have ahead to be split. Splits only take call slots that
    /// nothing else wants, mostly at the end of a load, where partitions with a page or two more
    /// than the rest would otherwise finish alone: halving 1.5 pages or more saves a round for
    /// about one call (each half ends on a short page). That call is worth it in a large table, where
    /// it is a sliver of the calls, not in a small one, where it is a noticeable share: a small
    /// table keeps the higher bar.
    /// </summary>
    private static double SplitMin(long? total) => total >= 10_000 ? 1.5 : 4;

    /// <summary>
    /// Work stealing: when a partition finishes, the one with the most pages still ahead gives
    /// away the second half of what it has not read yet, so that the calls in flight stay at the
    /// partition count until the end (records are rarely spread evenly over time: most portals
    /// grow). Returns the new partition's index, or null when nothing is worth splitting.
    /// </summary>
    private static int? SplitBusiest(List<PartitionState> partitions, List<Bound> bounds, double splitMin, ref int active)
    {
        var best = -1;
        double bestPages = 0;
        for (var i = 0; i < bounds.Count; i++)
        {
            var pages = bounds[i].PagesLeft();
            if (pages > bestPages)
            {
                (best, bestPages) = (i, pages);
            }
        }

        if (best < 0 || bestPages < splitMin)
        {
            return null;
        }

        var victim = bounds[best];
        lock (victim)
        {
            if (victim.Done || victim.PagesLeft() < splitMin)
            {
                return null;
            }

            var mid = victim.Cursor + TimeSpan.FromTicks((victim.Reach - victim.Cursor).Ticks / 2);
            mid = new DateTimeOffset(mid.Ticks - (mid.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            if (mid <= victim.Cursor + Tick)
            {
                return null;
            }

            var oldEnd = victim.End;
            victim.End = mid;
            partitions[best] = partitions[best] with { End = ValueConverter.Iso(mid) };
            partitions.Add(new PartitionState(ValueConverter.Iso(mid + Tick), ValueConverter.Iso(oldEnd), null, 0, false));
            bounds.Add(new Bound(oldEnd, mid + Tick, false, victim.Horizon));
            Interlocked.Increment(ref active); // before the victim can finish and close the channel
            return partitions.Count - 1;
        }
    }

    /// <summary>A running partition's end (which a split may move earlier), its cursor, and how much time a page covers.</summary>
    private sealed class Bound(DateTimeOffset end, DateTimeOffset cursor, bool done, DateTimeOffset horizon)
    {
        /// <summary>No record older than this existed when the load was planned.</summary>
        public DateTimeOffset Horizon { get; } = horizon;

        /// <summary>How far this partition's known records reach: its end, or the horizon if sooner.</summary>
        public DateTimeOffset Reach => End < Horizon ? End : Horizon;

        public DateTimeOffset End { get; set; } = end;

        public DateTimeOffset Cursor { get; set; } = cursor;

        public bool Done { get; set; } = done;

        /// <summary>The createdTime span the last full page covered; unknown (zero) before one.</summary>
        public TimeSpan PageSpan { get; set; }

        public DateTimeOffset CurrentEnd
        {
            get
            {
                lock (this)
                {
                    return End;
                }
            }
        }

        public double PagesLeft()
        {
            lock (this)
            {
                return Done || PageSpan <= TimeSpan.Zero || Reach <= Cursor ? 0 : (Reach - Cursor) / PageSpan;
            }
        }
    }

    /// <summary>Cuts [first, last] into equal time spans; the partition after the newest page is the caller's.</summary>
    private List<PartitionState> Plan(DateTimeOffset from, List<string> firstPageBoundary, DateTimeOffset to, long remaining)
    {
        var count = (int)Math.Clamp((remaining + 499) / 500, 1, Math.Max(1, options.Partitions));
        if (to <= from)
        {
            count = 1;
        }

        var span = (to - from).Ticks / count;
        var partitions = new List<PartitionState>(count + 1);
        for (var i = 0; i < count; i++)
        {
            var s = i == 0 ? from : from + TimeSpan.FromTicks(span * i) + Tick;
            s = new DateTimeOffset(s.Ticks - (s.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            var e = i == count - 1 ? to : from + TimeSpan.FromTicks(span * (i + 1));
            e = new DateTimeOffset(e.Ticks - (e.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            partitions.Add(new PartitionState(ValueConverter.Iso(s), ValueConverter.Iso(e), i == 0 ? ValueConverter.Iso(from) : null, 0, false, i == 0 ? firstPageBoundary : null));
        }

        return partitions;
    }
}
