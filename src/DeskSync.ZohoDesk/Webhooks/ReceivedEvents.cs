using DeskSync.Core.Journal;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Which events the receiver has journaled lately, by fingerprint, so that an event Zoho sends
/// again (its call timed out after we journaled it, or it sits twice in one delivery) is
/// acknowledged without being journaled — and so applied — a second time. An event being
/// journaled by another delivery right now is waited for: if that append fails, both deliveries
/// get a 503 and Zoho sends them again. The memory covers <see cref="Window"/> or the newest
/// <see cref="Capacity"/> events, whichever is fewer, and is rebuilt from the journal's segments
/// (kept that long after they are applied) when the process starts.
/// </summary>
public sealed class ReceivedEvents(TimeSpan window, int capacity, TimeProvider? time = null)
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);
    public const int DefaultCapacity = 500_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<ulong, Entry> _seen = [];
    private readonly Queue<(ulong Fingerprint, Entry Entry)> _order = new();
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
        var owned = new List<(ulong, Entry)>();
        var repeats = 0;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            Prune(now);
            for (var i = 0; i < events.Count; i++)
            {
                var fingerprint = events[i].Fingerprint;
                if (_seen.TryGetValue(fingerprint, out var entry))
                {
                    repeats++;
                    if (!entry.Done.Task.IsCompleted && !owned.Exists(o => o.Item2 == entry))
                    {
                        waits.Add(entry.Done.Task);
                    }

                    continue;
                }

                entry = new Entry(now);
                _seen[fingerprint] = entry;
                _order.Enqueue((fingerprint, entry));
                owned.Add((fingerprint, entry));
                fresh.Add(i);
            }
        }

        return new Claim(fresh, repeats, waits, owned);
    }

    /// <summary>The claim's events are in the journal: later copies are repeats.</summary>
    public void Journaled(Claim claim)
    {
        foreach (var (_, entry) in claim.Owned)
        {
            entry.Done.TrySetResult(true);
        }
    }

    /// <summary>The claim's events could not be journaled: forget them, so that Zoho's next try is taken.</summary>
    public void Failed(Claim claim)
    {
        lock (_gate)
        {
            foreach (var (fingerprint, entry) in claim.Owned)
            {
                if (_seen.TryGetValue(fingerprint, out var current) && current == entry)
                {
                    _seen.Remove(fingerprint);
                }
            }
        }

        foreach (var (_, entry) in claim.Owned)
        {
            entry.Done.TrySetResult(false);
        }
    }

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
        var written = recent.ToDictionary(s => s.Segment, s => s.Written);
        foreach (var record in journal.Read(new JournalPosition(recent[0].Segment, 0)))
        {
            var body = WebhookBody.Parse(record.Payload, journaled: true);
            var at = written.GetValueOrDefault(record.Position.Segment, _time.GetUtcNow());
            lock (_gate)
            {
                foreach (var e in body.Events)
                {
                    if (!_seen.ContainsKey(e.Fingerprint))
                    {
                        var entry = new Entry(at);
                        entry.Done.TrySetResult(true);
                        _seen[e.Fingerprint] = entry;
                        _order.Enqueue((e.Fingerprint, entry));
                        events++;
                    }
                }

                Prune(_time.GetUtcNow());
            }
        }

        return events;
    }

    private void Prune(DateTimeOffset now)
    {
        while (_order.TryPeek(out var oldest) && (_order.Count > Capacity || oldest.Entry.At < now - Window))
        {
            if (!oldest.Entry.Done.Task.IsCompleted)
            {
                return; // still being journaled: it cannot be forgotten yet
            }

            _order.Dequeue();
            if (_seen.TryGetValue(oldest.Fingerprint, out var current) && current == oldest.Entry)
            {
                _seen.Remove(oldest.Fingerprint);
            }
        }
    }

}

internal sealed class Entry(DateTimeOffset at)
{
    public DateTimeOffset At { get; } = at;

    public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>One delivery's share: the indexes of the events it must journal, how many were repeats, and appends of others it waits for.</summary>
public sealed class Claim
{
    internal Claim(IReadOnlyList<int> fresh, int repeats, IReadOnlyList<Task<bool>> waits, IReadOnlyList<(ulong, Entry)> owned)
    {
        Fresh = fresh;
        Repeats = repeats;
        Waits = waits;
        Owned = owned;
    }

    public IReadOnlyList<int> Fresh { get; }

    public int Repeats { get; }

    public IReadOnlyList<Task<bool>> Waits { get; }

    internal IReadOnlyList<(ulong, Entry)> Owned { get; }
}
