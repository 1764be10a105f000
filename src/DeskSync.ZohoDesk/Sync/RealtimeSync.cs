using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Snapshot;
using Microsoft.Extensions.Logging;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.ZohoDesk.Sync;

/// <summary>
/// The data source's incremental mode (snapshot + stream): the receiver starts first and journals
/// every delivery; then the full load runs (completed tables are skipped); then the journal is
/// applied from its committed position and followed. At every start it also reads from Zoho what
/// changed while it was not listening (the poll path, from the newest applied event) and, after a
/// long downtime, reconciles deletes. While following, nothing that can heal stops it: Zoho or the
/// target failing at start or later is reported, shown in /healthz and retried while the receiver
/// keeps journaling; only what cannot heal (a damaged journal, a revoked grant, a target set up for
/// another mode) ends the run, with its error.
/// </summary>
public sealed partial class RealtimeSync(DeskClient client, ISink target, RealtimeSyncOptions options, ILoggerFactory? loggers = null) : IAsyncDisposable
{
    private const string AliveStream = "runtime/alive";
    private readonly SerializedSink sink = new(target, options.Lease is { } lease ? () => lease.Held : null);
    private readonly ILogger _logger = loggers?.CreateLogger<RealtimeSync>() ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private readonly SemaphoreSlim _validated = new(0);
    private Task? _applier;
    private bool _applierFollows;

    /// <summary>Lines for the operator: poll and reconciliation summaries, drift, warnings.</summary>
    public event Action<string>? Report;

    public long PollCycles { get; private set; }

    public IJournal? Journal { get; private set; }

    public WebhookServer? Server { get; private set; }

    public JournalApplier? Applier { get; private set; }

    /// <summary>Set once the full load finished and the applier started.</summary>
    public bool Streaming { get; private set; }

    /// <summary>Catch-up polls done: at the start, and once more after Zoho checked the service URL.</summary>
    public int CatchUpPolls { get; private set; }

    /// <summary>Why the full load (or the catch-up) is waiting to try again; null while nothing is wrong.</summary>
    public string? LoadError { get; private set; }

    /// <summary>The last poll's or reconciliation's failure, until one succeeds.</summary>
    public string? PollError { get; private set; }

    /// <summary>Set when the applier ended while the run goes on (it should never): its error.</summary>
    public string? ApplierEnded { get; private set; }

    /// <summary>Set once the catch-up after the start (what changed while DeskSync was not listening) is done.</summary>
    public bool CaughtUp { get; private set; }

    internal RealtimeSyncOptions Options => options;

    /// <summary>Where the target stood in the journal when the receiver started (the backlog until the applier runs).</summary>
    internal JournalPosition? AppliedAtStart { get; private set; }

    internal DeskClient Client => client;

    /// <summary>Starts the HTTP server: the receiver (when webhooks are on), /healthz and /metrics.</summary>
    public async Task StartReceiverAsync(CancellationToken cancellationToken)
    {
        Journal = options.OpenJournal is { } open ? await open(cancellationToken) : DurableJournal.Open(options.JournalDirectory);
        if (Journal is DurableJournal { CutTail: { } tail })
        {
            Report?.Invoke($"journal: cut a torn tail (an append a crash interrupted, never acknowledged); its bytes are kept in {tail}.");
        }

        if (options.Lease is null)
        {
            // With a lease, the process that takes it checks (this one may never write the target).
            await RefuseAnotherJournalAsync(Journal, cancellationToken);
        }

        var received = new ReceivedEvents(options.DuplicateWindow, ReceivedEvents.DefaultCapacity, options.Time);
        try
        {
            // A shared journal remembers repeats itself (its de-duplication window), whichever process received them.
            if (Journal is DurableJournal local)
            {
                received.Rebuild(local);
            }
        }
        catch (JournalDamagedException ex)
        {
            // Only the memory of repeats is short; the applier stops at the damage if it lies in what is not applied yet.
            Report?.Invoke("warning: the journal could not be read whole to remember which events were received (" + ex.Message + "); a repeat of an event before the damage may be journaled again.");
        }
        var status = new SyncHealth(this);
        var metrics = new SyncMetrics(this, status);
        Receiver = new WebhookReceiver(Journal, new WebhookReceiverOptions
        {
            Token = options.Token,
            OrgId = options.OrgId,
            MaxBodyBytes = options.MaxBodyBytes,
            QuarantineDirectory = QuarantineDirectory,
            Jwt = options.Jwt,
            Received = received,
            Time = options.Time,
        }, loggers?.CreateLogger<WebhookReceiver>());
        Receiver.Validated += () => _validated.Release();
        _ownsServer = options.SharedServer is null;
        Server = options.SharedServer ?? await WebhookServer.StartAsync(options.Server with { MaxBodyBytes = options.MaxBodyBytes }, cancellationToken);
        Server.Add(options.Name, Receiver, status.Health, metrics.Metrics, options.UseWebhooks);
    }

    /// <summary>This data source's receiver (its service URL).</summary>
    public WebhookReceiver? Receiver { get; private set; }

    private bool _ownsServer;

    private string QuarantineDirectory => Path.Combine(options.JournalDirectory, "quarantine");

    /// <summary>Stops before listening when the target's checkpoint was taken from another journal (the applier checks again when the target is away now).</summary>
    private async Task RefuseAnotherJournalAsync(IJournal journal, CancellationToken ct)
    {
        JournalCheckpoint? applied;
        try
        {
            await sink.InitializeAsync(ct);
            applied = await JournalCheckpoint.ReadAsync(sink, ct);
        }
        catch (SinkException)
        {
            return;
        }

        try
        {
            applied?.EnsureTakenFrom(await journal.ViewAsync(applied.RecordAt, ct));
            AppliedAtStart = applied?.Position;
        }
        catch (JournalDamagedException)
        {
            await journal.DisposeAsync();
            Journal = null;
            throw;
        }
    }

    /// <summary>The full load, then the journal applied until cancelled (or, with <paramref name="follow"/> false, to its end), with the catch-up, polls and reconciliations.</summary>
    private async Task<IReadOnlyList<TableLoadResult>> ApplyAsync(IFullLoadProgress? progress, CancellationToken cancellationToken, bool follow)
    {
        await ClaimTargetAsync(follow, cancellationToken);
        var load = new FullLoad(client, sink, options.Snapshot);
        var results = await UntilItWorksAsync(
            ct => load.RunAsync(options.Tables, progress, ct), follow, error => LoadError = error, "the full load", cancellationToken);
        var schemas = options.Tables.ToDictionary(t => t.Name, t => FullLoad.SchemaOf(t, load.Fields), StringComparer.Ordinal);
        var downtime = await DowntimeAsync(results, cancellationToken);
        Applier = new JournalApplier(Journal!, sink, client, schemas, loggers?.CreateLogger<JournalApplier>())
        {
            Reading = options.Snapshot,
            TargetRetryLimit = options.TargetRetryLimit,
            TargetRetryMaxDelay = options.TargetRetryMaxDelay,
            KeepApplied = options.DuplicateWindow,
            Time = options.Time,
            Quarantine = new Quarantine(QuarantineDirectory, time: options.Time),
            MayLetGo = options.Lease is { } lease ? () => lease.Held : null,
        };
        Applier.Report += line => Report?.Invoke(line);
        Streaming = true;
        using var stopLoops = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _applierFollows = follow && options.UseWebhooks;
        _applier = Applier.RunAsync(_applierFollows, stopLoops.Token);
        var loops = new List<Task> { _applier };
        if (follow)
        {
            loops.Add(CatchUpAsync(downtime, stopLoops.Token));
            loops.Add(AliveAsync(stopLoops.Token));
            if (options.PollInterval is { } poll)
            {
                loops.Add(new Schedule("poll", poll, sink, options.Time).RunAsync(PollOnceAsync, error => PollError = error, Report, stopLoops.Token));
            }

            if (options.ReconcileInterval is { } reconcile)
            {
                loops.Add(new Schedule("reconcile", reconcile, sink, options.Time).RunAsync(ReconcileOnceAsync, error => PollError = error, Report, stopLoops.Token));
            }
        }
        else
        {
            CaughtUp = true;
        }

        try
        {
            // The first loop to fail stops the run with its error: none may die unseen while the others go on.
            while (loops.Count > 0)
            {
                var done = await Task.WhenAny(loops);
                loops.Remove(done);
                if (done.IsFaulted)
                {
                    ApplierEnded = done == _applier ? done.Exception!.InnerException!.Message : ApplierEnded;
                    await stopLoops.CancelAsync();
                    await Task.WhenAll(loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                await done;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: everything applied so far is committed with its position.
        }
        finally
        {
            // No loop may outlive the run: one still writing would share the target with whoever disposes it next.
            await stopLoops.CancelAsync();
            await Task.WhenAll(loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return results;
    }

    /// <summary>Whether the applier's task has ended while the run goes on.</summary>
    internal bool ApplierStopped => _applierFollows && _applier is { IsCompleted: true };

    /// <summary>
    /// Runs <paramref name="work"/>; when following, a failure that can heal (Zoho or the target
    /// away) is reported and tried again with growing waits while the receiver keeps journaling.
    /// </summary>
    private async Task<T> UntilItWorksAsync<T>(Func<CancellationToken, Task<T>> work, bool follow, Action<string?> error, string what, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await work(ct);
                if (attempt > 1)
                {
                    Report?.Invoke($"{what}: working again after {attempt - 1} failed tries.");
                }

                error(null);
                return result;
            }
            catch (Exception ex) when (follow && !ct.IsCancellationRequested && Heals(ex))
            {
                var delay = TimeSpan.FromSeconds(Math.Min(options.TargetRetryMaxDelay.TotalSeconds, Math.Pow(2, Math.Min(attempt - 1, 16))));
                error($"{what} is waiting: {ex.Message}");
                Report?.Invoke($"warning: {what} failed (try {attempt}): {ex.Message.TrimEnd('.')}. Webhooks are still received and journaled; trying again in {delay.TotalSeconds:0.#} s.");
                _logger.LogWarning("{What} failed (try {Attempt}): {Message}", what, attempt, ex.Message);
                await Task.Delay(delay, options.Time, ct);
            }
        }
    }

    /// <summary>A failure that waiting can mend: Zoho or the network away, a target that refuses writes for now.</summary>
    internal static bool Heals(Exception ex) => ex switch
    {
        ZohoApiException api => api.Kind is ZohoFailureKind.Transient or ZohoFailureKind.RateLimited or ZohoFailureKind.CreditsExhausted,
        ZohoAuthException auth => auth.IsTransient,
        SinkException sinkError => sinkError.Retryable,
        HttpRequestException or TimeoutException or IOException => true,
        _ => false,
    };

    /// <summary>Prometheus text exposition of the service's counters.</summary>
    public string Metrics() => new SyncMetrics(this, new SyncHealth(this)).Metrics();

    /// <summary>What /healthz answers.</summary>
    public HealthReport Health() => new SyncHealth(this).Health();

    /// <summary>One poll of every table; reports rows, calls, credits and the daily cost at this interval.</summary>
    public async Task PollOnceAsync(CancellationToken ct)
    {
        var results = await new Poller(client, sink, new PollOptions { Reading = options.Snapshot }, options.Time).PollOnceAsync(options.Tables, Report, ct);
        PollCycles++;
        var credits = results.Sum(r => r.Credits);
        var perDay = options.PollInterval is { } interval ? credits * (TimeSpan.FromDays(1) / interval) : 0;
        Report?.Invoke($"poll: {results.Sum(r => r.Rows):N0} rows, {results.Sum(r => r.Calls):N0} calls, {credits:N0} credits (≈ {perDay:N0} credits a day at this interval)");
    }

    public async Task ReconcileOnceAsync(CancellationToken ct)
    {
        var results = await new DeleteReconciler(client, sink, options.Reconcile, options.Time).RunAsync(options.Tables, Report, ct);
        Report?.Invoke($"reconcile: {results.Sum(r => r.Deleted):N0} rows deleted, {results.Sum(r => r.Calls):N0} calls, {results.Sum(r => r.Credits):N0} credits");
    }

    /// <summary>Waits until everything journaled so far is applied.</summary>
    public async Task WaitCaughtUpAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Applier is null || Applier.Position < Journal!.End || Journal.PendingBytes > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The applier is at {Applier?.Position}, the journal ends at {Journal?.End}" + (Applier?.Error is { } error ? $"; it cannot go on: {error}" : "."));
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (options.Lease is { } lease)
        {
            await lease.DisposeAsync();
        }

        if (Server is not null)
        {
            if (_ownsServer)
            {
                await Server.DisposeAsync();
            }
            else
            {
                Server.Remove(options.Name);
            }
        }

        if (Journal is not null)
        {
            await Journal.DisposeAsync();
        }

        await sink.DisposeAsync();
    }
}
