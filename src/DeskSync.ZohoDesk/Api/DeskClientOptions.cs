namespace DeskSync.ZohoDesk.Api;

public sealed record DeskClientOptions
{
    /// <summary>The portal's org ID, sent as the orgId header on every call.</summary>
    public required string OrgId { get; init; }

    /// <summary>Concurrent calls at most. Zoho's caps: Free/Trial 5, Express and Standard 10,
    /// Professional 15, Enterprise 25 (facts page §3).</summary>
    public int MaxConcurrency { get; init; } = 10;

    /// <summary>Credits DeskSync never spends: other integrations share the portal's daily credits.</summary>
    public long CreditReserve { get; init; } = 1_000;

    public int MaxRetryAttempts { get; init; } = 6;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest Retry-After DeskSync waits for inside one call; longer (a daily
    /// credit reset) fails the call with <see cref="ZohoFailureKind.CreditsExhausted"/>.</summary>
    public TimeSpan MaxRetryAfterWait { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The largest answer accepted, decompressed: a page of 100 complete tickets is ~330 KB, so
    /// this is never reached by a real page, and it bounds what a compressed answer may expand to
    /// in memory. A larger answer fails its call (not retried) with
    /// <see cref="ZohoFailureKind.Configuration"/>: a full load reports that table as failed.
    /// </summary>
    public long MaxAnswerBytes { get; init; } = 256L << 20;

    public static int ConcurrencyForEdition(string? edition) => (edition ?? "").ToUpperInvariant() switch
    {
        "FREE" or "NEW_FREE" or "FREE_2019" or "TRIAL" => 5,
        "EXPRESS" or "STANDARD" => 10,
        "PROFESSIONAL" => 15,
        "ENTERPRISE" => 25,
        _ => 10,
    };
}
