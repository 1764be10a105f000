namespace DeskSync.Emulator;

/// <summary>How the fake portal looks and behaves. Defaults follow shared/docs/zoho-desk-api.md.</summary>
public sealed record EmulatorOptions
{
    public int Seed { get; init; } = 42;

    /// <summary>Keep records as UTF-8 JSON and parse them when asked for (about 5 KB a ticket
    /// instead of about 35 KB as JsonObjects): slower answers, room for a million tickets.</summary>
    public bool CompactStore { get; init; }

    public TableCounts Counts { get; init; } = new();

    /// <summary>Generated records are spread over the two years before this instant; default
    /// midnight (UTC) of the emulator's today, so that one seed gives the same data all day.</summary>
    public DateTimeOffset? DataAnchor { get; init; }

    /// <summary>FREE, EXPRESS, STANDARD, PROFESSIONAL or ENTERPRISE: sets concurrency and daily credits.</summary>
    public string Edition { get; init; } = "ENTERPRISE";

    /// <summary>Overrides the edition's concurrent-call cap.</summary>
    public int? ConcurrencyCap { get; init; }

    /// <summary>Overrides the edition's daily API credits.</summary>
    public long? DailyCredits { get; init; }

    public string OrgId { get; init; } = "60012345678";

    public string PortalName { get; init; } = "acmesupport";

    /// <summary>Client id and secret of the Self Client registered at start; random when null.</summary>
    public string? ClientId { get; init; }

    public string? ClientSecret { get; init; }

    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromHours(1);

    public int AccessTokensPerRefreshTokenPer10Minutes { get; init; } = 10;

    public TimeSpan GrantCodeLifetime { get; init; } = TimeSpan.FromMinutes(10);

    public string ApiDomain { get; init; } = "https://www.zohoapis.com";

    /// <summary>Whether `from` counts from 0 or from 1 (disputed between sources, §2 of the facts page).</summary>
    public int FromBase { get; init; }

    /// <summary>Largest `from` list endpoints accept ("exceeds the range of '0-4999'").</summary>
    public int ListOffsetMax { get; init; } = 4999;

    /// <summary>Largest `from` search accepts.</summary>
    public int SearchOffsetMax { get; init; } = 999;

    /// <summary>Tables the portal's licence forbids (403 LICENSE_ACCESS_LIMITED), by list path, e.g. "contracts".</summary>
    public IReadOnlySet<string> LicenseLimitedTables { get; init; } = new HashSet<string>();

    /// <summary>
    /// Compress answers with gzip (or Brotli) when the request's Accept-Encoding asks for it.
    /// Whether the real Zoho Desk does is unknown (facts page §6), so the default is off: answers
    /// are then plain whatever the client asks, as from a server that ignores Accept-Encoding.
    /// </summary>
    public bool CompressAnswers { get; init; }

    /// <summary>
    /// One record in this many is answered in the spread real answers have (epoch-ms times,
    /// booleans as strings, empty keys left out; see <see cref="OpenApi.AnswerSpread"/>); 0 answers
    /// every record exactly in its schema's shape.
    /// </summary>
    public int AnswerSpread { get; init; } = 8;

    /// <summary>The emulator's clock: token expiry, credits' daily reset, generated timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public (int Concurrency, long Credits) EditionLimits()
    {
        const int Agents = 10;
        var (concurrency, credits) = Edition.ToUpperInvariant() switch
        {
            "FREE" => (5, 5_000L),
            "EXPRESS" => (10, 25_000L + (100 * Agents)),
            "STANDARD" => (10, 50_000L + (250 * Agents)),
            "PROFESSIONAL" => (15, 75_000L + (500 * Agents)),
            _ => (25, 100_000L + (1_000 * Agents)),
        };
        return (ConcurrencyCap ?? concurrency, DailyCredits ?? credits);
    }
}

public sealed record TableCounts
{
    public int Tickets { get; init; } = 250;

    public int Departments { get; init; } = 3;

    public int Products { get; init; } = 40;

    public int Contracts { get; init; } = 30;

    public int Contacts { get; init; } = 120;

    public int Accounts { get; init; } = 40;

    public int Agents { get; init; } = 12;

    public int Teams { get; init; } = 4;

    public int Tasks { get; init; } = 60;

    public int Calls { get; init; } = 50;

    public int Events { get; init; } = 30;

    /// <summary>Tickets with more threads than one list's offsets reach (5,600 each).</summary>
    public int LongConversations { get; init; }
}
