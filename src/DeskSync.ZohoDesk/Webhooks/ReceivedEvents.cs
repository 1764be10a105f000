using DeskSync.Core.Journal;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Which events the receiver has journaled lately, by fingerprint, so that an event Zoho sends
/// again (its call timed out after we journaled it, or it sits twice in one delivery) is
/// acknowledged without being journaled — and so applied — a second time. An event being
/// journaled by another delivery right now is waited for: if that append fails, both deliveries
/// get a 503 and Zoho sends them again. The memory covers <see cref="Window"/> or the newest
/// <see cref="Capacity"/> events, whichever is fewer (about 40 bytes an event), and is rebuilt
/// from the journal's segments (kept that long after they are applied) when the process starts.
/// </summary>
public sealed class ReceivedEvents(TimeSpan window, int capacity, TimeProvider? time = null)
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);
    public const int DefaultCapacity = 500_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // Fingerprint → when it was received (UTC ticks); an append under way is also in _journaling.
    private readonly Dictionary<ulong, long> _seen = [];
    private readonly Dictionary<ulong, TaskCompletionSource<bool>> _journaling = [];
    private readonly Queue<(ulong Fingerprint, long At)> _order = new();
    private readonly Lock _gate = new();

    public TimeSpan Window { get; } = window;

    public int Capacity { get; } = capacity;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Sorts a delivery's events into those this delivery must journal, repeats, and those another delivery is journaling.</summary>
    public Claim Claim(IReadOnlyList<WebhookEvent> events)
    {
        var fresh = new List<int>();
        var waits = new List<Task<bool>>();
        var owned = new List<ulong>();
        var repeats = 0;
        var now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            Prune(now);
            for (var i = 0; i < events.Count; i++)
            {
                var fingerprint = events[i].Fingerprint;
                if (_seen.ContainsKey(fingerprint))
                {
                    repeats++;
                    if (_journaling.TryGetValue(fingerprint, out var underway) && !owned.Contains(fingerprint))
                    {
                        waits.Add(underway.Task);
                    }

                    continue;
                }

                _seen[fingerprint] = now;
                _journaling[fingerprint] = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _order.Enqueue((fingerprint, now));
                owned.Add(fingerprint);
                fresh.Add(i);
            }
        }

        return new Claim(fresh, repeats, waits, owned);
    }

    /// <summary>The claim's events are in the journal: later copies are repeats.</summary>
    public void Journaled(Claim claim) => Settle(claim, journaled: true);

    /// <summary>The claim's events could not be journaled: forget them, so that Zoho's next try is taken.</summary>
    public void Failed(Claim claim) => Settle(claim, journaled: false);

    /// <summary>Remembers every event of the journal's segments written within the window (at start, before receiving).</summary>
    public long Rebuild(DurableJournal journal)
    {
        var since = _time.GetUtcNow() - Window;
        var recent = journal.SegmentTimes().Where(s => s.Written >= since).ToList();
        if (recent.Count == 0)
        {
            return 0;
        }

        long events = 0;
        var written = recent.ToDictionary(s => s.Segment, s => s.Written.UtcTicks);
        foreach (var record in journal.Read(new JournalPosition(recent[0].Segment, 0)))
        {
            var body = WebhookBody.Parse(record.Payload, journaled: true);
            var at = written.GetValueOrDefault(record.Position.Segment, _time.GetUtcNow().UtcTicks);
            lock (_gate)
            {
                foreach (var e in body.Events)
                {
                    if (_seen.TryAdd(e.Fingerprint, at))
                    {
                        _order.Enqueue((e.Fingerprint, at));
                        events++;
                    }
                }

                Prune(_time.GetUtcNow().UtcTicks);
            }
        }

        return events;
    }

    private void Settle(Claim claim, bool journaled)
    {
        var done = new List<TaskCompletionSource<bool>>(claim.Owned.Count);
        lock (_gate)
        {
            foreach (var fingerprint in claim.Owned)
            {
                if (_journaling.Remove(fingerprint, out var underway))
                {
                    done.Add(underway);
                }

                if (!journaled)
                {
                    _seen.Remove(fingerprint); // its place in _order is skipped when it comes up
                }
            }
        }

        done.ForEach(d => d.TrySetResult(journaled));
    }

    private void Prune(long now)
    {
        var oldest = now - Window.Ticks;
        while (_order.TryPeek(out var head) && (_order.Count > Capacity || head.At < oldest))
        {
            if (_journaling.ContainsKey(head.Fingerprint))
            {
                return; // still being journaled: it cannot be forgotten yet
            }

            _order.Dequeue();
            if (_seen.TryGetValue(head.Fingerprint, out var at) && at == head.At)
            {
                _seen.Remove(head.Fingerprint);
            }
        }
    }
}

/// <summary>One delivery's share: the indexes of the events it must journal, how many were repeats, and appends of others it waits for.</summary>
public sealed class Claim
{
    internal Claim(IReadOnlyList<int> fresh, int repeats, IReadOnlyList<Task<bool>> waits, IReadOnlyList<ulong> owned)
    {
        Fresh = fresh;
        Repeats = repeats;
        Waits = waits;
        Owned = owned;
    }

    public IReadOnlyList<int> Fresh { get; }

    public int Repeats { get; }

    public IReadOnlyList<Task<bool>> Waits { get; }

    internal IReadOnlyList<ulong> Owned { get; }
}
