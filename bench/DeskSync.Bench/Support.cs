
namespace DeskSync.Bench;

internal sealed class Args(Dictionary<string, string> values)
{
    public static Args Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? key = null;
        foreach (var a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                key = a[2..];
                values[key] = "true";
            }
            else if (key is not null)
            {
                values[key] = a;
                key = null;
            }
        }

        return new Args(values);
    }

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public string? Text(string name) => values.GetValueOrDefault(name);
}

/// <summary>Records when each expected (id, subject) version reaches the target.</summary>
internal sealed class TimingSink(ISink inner) : DelegatingSink(inner)
{
    private readonly ConcurrentDictionary<string, long> _expected = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<double> _lags = [];

    public void Expect(string key, long timestamp) => _expected[key] = timestamp;

    public IEnumerable<double> Lags() => _lags;

    public override async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        await Inner.ApplyAsync(schema, events, checkpoint, cancellationToken);
        var now = Stopwatch.GetTimestamp();
        foreach (var e in events)
        {
            if (e.Record is { } r && r.TryGetProperty("subject", out var s) && _expected.TryRemove($"{e.Key}/{s.GetString()}", out var sent))
            {
                _lags.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
            }
        }
    }
}

/// <summary>Writes nothing: isolates the read side (emulator, HTTP, client) from the target. With
/// <paramref name="capture"/>, keeps the batches so that they can be replayed into a target alone.</summary>
internal sealed class NullSink(bool capture = false) : ISink
{
    public Task<IReadOnlyCollection<string>?> ChildKeysAsync(TableSchema schema, string parentId, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyCollection<string>?>(null);

    private readonly Dictionary<string, Checkpoint> _checkpoints = [];

    public List<(TableSchema Schema, IReadOnlyList<ChangeEvent> Events)> Batches { get; } = [];

    public SinkMode Mode => SinkMode.Document;

    public string Describe() => "nothing";

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken) => Task.FromResult(SchemaChanges.None);

    public Task<IReadOnlyList<string>> KeysWrittenBeforeAsync(string table, DateTimeOffset writtenBefore, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    public Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        if (checkpoint is not null)
        {
            _checkpoints[checkpoint.Stream] = checkpoint;
        }

        if (capture)
        {
            lock (Batches)
            {
                Batches.Add((schema, [.. events.Select(e => e with { Record = e.Record?.Clone() })]));
            }
        }

        return Task.CompletedTask;
    }

    public Task<Checkpoint?> GetCheckpointAsync(string stream, CancellationToken cancellationToken) => Task.FromResult(_checkpoints.GetValueOrDefault(stream));

    public Task SaveCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        _checkpoints[checkpoint.Stream] = checkpoint;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Times every HTTP call DeskClient makes (request sent → answer's headers, which on loopback
/// arrive with the body): how many calls were in flight on average, and how long a call took
/// beyond the emulator's injected latency. Explains a full load's ratio to its ceiling.
/// </summary>
internal sealed class CallTimer() : DelegatingHandler(DeskSync.ZohoDesk.Api.DeskHttp.CreateTransport())
{
    private readonly ConcurrentQueue<(long Start, long End)> _calls = new();

    public void Clear() => _calls.Clear();

    /// <summary>Mean calls in flight between the first call's start and the last one's end, and the mean call time.</summary>
    public (double InFlight, TimeSpan MeanCall, int Calls) Summary()
    {
        var calls = _calls.ToArray();
        if (calls.Length == 0)
        {
            return (0, TimeSpan.Zero, 0);
        }

        var busy = calls.Sum(c => (double)(c.End - c.Start));
        var span = calls.Max(c => c.End) - calls.Min(c => c.Start);
        return (busy / Math.Max(1, span), Stopwatch.GetElapsedTime(0, (long)(busy / calls.Length)), calls.Length);
    }

    /// <summary>Call times in ms at the 10th, 50th, 90th and 99th percentile and the longest.</summary>
    public string Percentiles()
    {
        var times = _calls.ToArray().Select(c => Stopwatch.GetElapsedTime(c.Start, c.End).TotalMilliseconds).Order().ToArray();
        return times.Length == 0 ? "" : string.Join(" / ", new[] { 0.1, 0.5, 0.9, 0.99 }.Select(q => times[(int)(q * (times.Length - 1))]).Append(times[^1]).Select(t => t.ToString("N1", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>The first calls' start and end, in ms from the first call's start: what the load waits for before the cap fills.</summary>
    public string Opening(int count)
    {
        var calls = _calls.ToArray().OrderBy(c => c.Start).ToArray();
        if (calls.Length == 0)
        {
            return "";
        }

        var origin = calls[0].Start;
        return string.Join(' ', calls.Take(count).Select(c => $"{Stopwatch.GetElapsedTime(origin, c.Start).TotalMilliseconds:N0}–{Stopwatch.GetElapsedTime(origin, c.End).TotalMilliseconds:N0}"));
    }

    /// <summary>Mean calls in flight in each slice of the load, from the first call's start.</summary>
    public string Timeline(TimeSpan slice)
    {
        var calls = _calls.ToArray();
        if (calls.Length == 0)
        {
            return "";
        }

        var origin = calls.Min(c => c.Start);
        var width = (long)(slice.TotalSeconds * Stopwatch.Frequency);
        var slices = new double[(calls.Max(c => c.End) - origin) / width + 1];
        foreach (var (start, end) in calls)
        {
            for (var t = start; t < end;)
            {
                var i = (t - origin) / width;
                var next = Math.Min(end, origin + ((i + 1) * width));
                slices[i] += next - t;
                t = next;
            }
        }

        return string.Join(' ', slices.Select(s => (s / width).ToString("N1", System.Globalization.CultureInfo.InvariantCulture)));
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            _calls.Enqueue((start, Stopwatch.GetTimestamp()));
        }
    }
}

/// <summary>
/// Times the writer: how long it spent inside the target's commits, how many it made and the
/// longest; and, on Linux, how much of that time its thread ran, waited for a core (runnable but
/// not running) or waited for anything else (the disk, a lock), from the kernel's per-thread
/// scheduler counters. A commit that resumed on another thread (an asynchronous target) is left
/// out of the split.
/// </summary>
internal sealed class BusySink(ISink inner) : DelegatingSink(inner)
{
    private long _busy;
    private long _longest;
    private TimeSpan _running;
    private TimeSpan _waitingForCore;
    private TimeSpan _split;

    public int Commits { get; private set; }

    public TimeSpan Busy => Stopwatch.GetElapsedTime(0, _busy);

    public TimeSpan Longest => Stopwatch.GetElapsedTime(0, _longest);

    /// <summary>The commits' time on the writer's thread: running, waiting for a core, waiting for anything else; null where the kernel does not say.</summary>
    public (TimeSpan Running, TimeSpan WaitingForCore, TimeSpan Other)? Split =>
        _split > TimeSpan.Zero ? (_running, _waitingForCore, _split - _running - _waitingForCore) : null;

    public override async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        var thread = Environment.CurrentManagedThreadId;
        var before = ThreadSchedule.Read();
        var start = Stopwatch.GetTimestamp();
        await Inner.ApplyAsync(schema, events, checkpoint, cancellationToken);
        var took = Stopwatch.GetTimestamp() - start;
        if (Environment.CurrentManagedThreadId == thread && before is { } b && ThreadSchedule.Read() is { } a)
        {
            _running += a.Running - b.Running;
            _waitingForCore += a.Waiting - b.Waiting;
            _split += Stopwatch.GetElapsedTime(0, took);
        }

        _busy += took;
        _longest = Math.Max(_longest, took);
        Commits++;
    }
}

/// <summary>
/// The calling thread's time on a core (CLOCK_THREAD_CPUTIME_ID, exact to the call) and time
/// runnable but waiting for one (the second field of /proc/thread-self/schedstat); null off Linux.
/// Schedstat's first field is not used for the time on a core: for a running thread it is only
/// brought up to date at the next scheduler tick, so it lags by up to a tick (2 ms at the median
/// here), which over ninety commits moved some 180 ms from "running" into "waiting for the disk".
/// </summary>
internal static class ThreadSchedule
{
    private const int ClockThreadCpuTime = 3;

    public static (TimeSpan Running, TimeSpan Waiting)? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var fields = File.ReadAllText("/proc/thread-self/schedstat").Split(' ');
            var waiting = TimeSpan.FromTicks(long.Parse(fields[1], CultureInfo.InvariantCulture) / 100);
            return clock_gettime(ClockThreadCpuTime, out var now) == 0
                ? (TimeSpan.FromTicks((now.Seconds * TimeSpan.TicksPerSecond) + (now.Nanoseconds / 100)), waiting)
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int clock_gettime(int clock, out TimeSpec time);

    private readonly struct TimeSpec
    {
        public readonly long Seconds;
        public readonly long Nanoseconds;
    }
}
