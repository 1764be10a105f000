using System.Collections.Concurrent;

namespace DeskSync.ZohoDesk.Api;

/// <summary>
/// Every HTTP call made to the Desk API (retries included), counted and costed by label
/// (usually the table), and the credits Zoho says remain. Readers and benchmarks report from it.
/// </summary>
public sealed class ApiCallLog
{
    private readonly ConcurrentDictionary<string, Counter> _byLabel = new(StringComparer.Ordinal);
    private long _remaining = -1;

    /// <summary>Credits left today as Zoho last reported (X-Rate-Limit-Remaining-v3), or null before any answer.</summary>
    public long? RemainingCredits => Interlocked.Read(ref _remaining) is var r and >= 0 ? r : null;

    private long _compressed;
    private long _inflatedBytes;

    public long TotalCalls => _byLabel.Values.Sum(c => c.Calls);

    /// <summary>Answers that came compressed (DeskSync asks for gzip or Brotli; whether Zoho compresses is not known).</summary>
    public long CompressedAnswers => Interlocked.Read(ref _compressed);

    /// <summary>The compressed answers' size once inflated.</summary>
    public long InflatedBytes => Interlocked.Read(ref _inflatedBytes);

    public void RecordCompressed(long inflatedBytes)
    {
        Interlocked.Increment(ref _compressed);
        Interlocked.Add(ref _inflatedBytes, inflatedBytes);
    }

    public long TotalCredits => _byLabel.Values.Sum(c => c.Credits);

    public IReadOnlyDictionary<string, (long Calls, long Credits, long Failures)> ByLabel =>
        _byLabel.ToDictionary(kv => kv.Key, kv => (kv.Value.Calls, kv.Value.Credits, kv.Value.Failures), StringComparer.Ordinal);

    public void Record(string label, int status, int? weight, long? remaining)
    {
        var counter = _byLabel.GetOrAdd(label, _ => new Counter());
        Interlocked.Increment(ref counter.Calls);
        Interlocked.Add(ref counter.Credits, weight ?? 0);
        if (status >= 400 || status == 0)
        {
            Interlocked.Increment(ref counter.Failures);
        }

        if (remaining is { } r)
        {
            Interlocked.Exchange(ref _remaining, r);
        }
    }

    private sealed class Counter
    {
        public long Calls;
        public long Credits;
        public long Failures;
    }
}
