namespace DeskSync.Emulator.Desk;

/// <summary>
/// The portal's API limits: concurrent calls per edition (429 TOO_MANY_REQUESTS, no Retry-After)
/// and daily credits reset at midnight (429 THRESHOLD_EXCEEDED with Retry-After). §3 of the facts page.
/// </summary>
public sealed class ApiLimits(EmulatorOptions options)
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time = options.Time;
    private int _inFlight;
    private long _creditsUsed;
    private DateOnly _day = DateOnly.FromDateTime(options.Time.GetUtcNow().UtcDateTime);

    public int ConcurrencyCap { get; set; } = options.EditionLimits().Concurrency;

    public long DailyCredits { get; set; } = options.EditionLimits().Credits;

    public int PeakInFlight { get; private set; }

    public long CreditsUsedToday
    {
        get
        {
            lock (_gate)
            {
                Roll();
                return _creditsUsed;
            }
        }
    }

    public long Remaining
    {
        get
        {
            lock (_gate)
            {
                Roll();
                return Math.Max(0, DailyCredits - _creditsUsed);
            }
        }
    }

    public bool TryEnter()
    {
        lock (_gate)
        {
            if (_inFlight >= ConcurrencyCap)
            {
                return false;
            }

            _inFlight++;
            PeakInFlight = Math.Max(PeakInFlight, _inFlight);
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            _inFlight--;
        }
    }

    /// <summary>Spends the call's credits, or says how long until the daily reset.</summary>
    public bool TrySpend(int cost, out long remaining, out TimeSpan untilReset)
    {
        lock (_gate)
        {
            Roll();
            var now = _time.GetUtcNow();
            untilReset = now.Date.AddDays(1) - now.UtcDateTime;
            if (_creditsUsed + cost > DailyCredits)
            {
                remaining = Math.Max(0, DailyCredits - _creditsUsed);
                return false;
            }

            _creditsUsed += cost;
            remaining = DailyCredits - _creditsUsed;
            return true;
        }
    }

    public void SetRemaining(long remaining)
    {
        lock (_gate)
        {
            Roll();
            _creditsUsed = Math.Max(0, DailyCredits - remaining);
        }
    }

    private void Roll()
    {
        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        if (today != _day)
        {
            _day = today;
            _creditsUsed = 0;
        }
    }
}
