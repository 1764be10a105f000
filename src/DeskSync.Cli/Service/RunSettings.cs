using System.CommandLine;
using DeskSync.Cli.Config;
using DeskSync.Core;

namespace DeskSync.Cli.Service;

/// <summary>`run`'s options as given, resolved per data source against its settings (so that a reload applies them to a source added later).</summary>
internal sealed record RunSettings
{
    public required ParseResult Parse { get; init; }

    public required TargetOptions Targets { get; init; }

    public string? Listen { get; init; }

    public string? AdminListen { get; init; }

    public string? PublicUrl { get; init; }

    public string? Certificate { get; init; }

    public string? Deletes { get; init; }

    public bool Once { get; init; }

    public string? Incremental { get; init; }

    public string? PollInterval { get; init; }

    public string? ReconcileInterval { get; init; }

    public bool VerifyJwt { get; init; }

    public string? ReconcileAfterDowntime { get; init; }

    public string? TargetRetry { get; init; }

    /// <summary>"local" (the default) or the NATS servers of a JetStream cluster (nats://host:port, comma-separated).</summary>
    public string? Journal { get; init; }

    public int JournalReplicas { get; init; } = 3;

    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(10);

    public DeleteMode DeleteModeOf(DataSourceConfig source) => (Deletes ?? source.DeleteMode ?? "hard").ToLowerInvariant() switch
    {
        "hard" => DeleteMode.Hard,
        "soft" => DeleteMode.Soft,
        var other => throw new ConfigException($"Unknown delete mode '{other}': use hard or soft."),
    };

    public string IncrementalOf(DataSourceConfig source)
    {
        var mode = (Incremental ?? source.Incremental ?? "webhook").ToLowerInvariant();
        return mode is "webhook" or "polling" or "webhook+polling"
            ? mode
            : throw new ConfigException($"Unknown incremental mode '{mode}': use webhook, polling or webhook+polling.");
    }

    public TimeSpan? PollOf(DataSourceConfig source)
    {
        var mode = IncrementalOf(source);
        return mode == "webhook" ? null : Durations.Parse(PollInterval ?? source.PollInterval ?? (mode == "polling" ? "5m" : "30m"), "--poll-interval");
    }

    public TimeSpan? ReconcileOf(DataSourceConfig source)
    {
        var text = ReconcileInterval ?? source.ReconcileInterval ?? "24h";
        return text == "off" ? null : Durations.Parse(text, "--reconcile-interval");
    }

    public TimeSpan AfterDowntime
    {
        get
        {
            var text = ReconcileAfterDowntime ?? "15m";
            return text == "off" ? Timeout.InfiniteTimeSpan : Durations.Parse(text, "--reconcile-after-downtime");
        }
    }

    public TimeSpan? RetryLimit
    {
        get
        {
            var text = TargetRetry ?? "forever";
            return text == "forever" ? null : Durations.Parse(text, "--target-retry");
        }
    }
}
