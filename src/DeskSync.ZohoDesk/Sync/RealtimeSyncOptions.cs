using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.ZohoDesk.Sync;

public sealed record RealtimeSyncOptions
{
    public required IReadOnlyList<DeskStream> Tables { get; init; }

    public SnapshotOptions Snapshot { get; init; } = new();

    public WebhookServerOptions Server { get; init; } = new();

    /// <summary>A server shared by several data sources (one listener); null: this source starts its own from <see cref="Server"/>.</summary>
    public WebhookServer? SharedServer { get; init; }

    /// <summary>The data source's name: its label in /healthz and /metrics on a shared server.</summary>
    public string Name { get; init; } = "default";

    /// <summary>The data source's local state: the journal's folder (when the journal is local) and the quarantine.</summary>
    public required string JournalDirectory { get; init; }

    /// <summary>Opens a journal other than the local one in <see cref="JournalDirectory"/> (a JetStream stream); null: the local journal.</summary>
    public Func<CancellationToken, Task<Core.Journal.IJournal>>? OpenJournal { get; init; }

    /// <summary>When several processes receive this data source: only the lease's holder loads, applies, polls and reconciles; null: this process alone.</summary>
    public Core.Locking.ISourceLease? Lease { get; init; }

    public required string Token { get; init; }

    public required string OrgId { get; init; }

    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Refuse deliveries without a valid X-ZDesk-JWT.</summary>
    public WebhookJwtVerifier? Jwt { get; init; }

    /// <summary>Receive webhooks (modes webhook and webhook+polling).</summary>
    public bool UseWebhooks { get; init; } = true;

    /// <summary>Poll this often (modes polling and webhook+polling); null: no polling.</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary>Reconcile deletes this often; null: never.</summary>
    public TimeSpan? ReconcileInterval { get; init; }

    public ReconcileOptions Reconcile { get; init; } = new();

    /// <summary>How long the applier keeps retrying a target that refuses writes (null: for ever).</summary>
    public TimeSpan? TargetRetryLimit { get; init; }

    /// <summary>The longest wait between two tries of a refusing target.</summary>
    public TimeSpan TargetRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a received event is remembered, so that Zoho sending it again changes nothing.</summary>
    public TimeSpan DuplicateWindow { get; init; } = ReceivedEvents.DefaultWindow;

    /// <summary>After a downtime longer than this, the start also reconciles deletes (a delete leaves no trace a poll can see); InfiniteTimeSpan: never.</summary>
    public TimeSpan ReconcileAfterDowntime { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>/healthz says "failing" when events wait and none was applied for this long.</summary>
    public TimeSpan StallAfter { get; init; } = TimeSpan.FromMinutes(5);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
