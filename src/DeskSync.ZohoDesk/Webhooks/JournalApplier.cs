using System.Text;
using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Applies journaled webhook events to the sink in journal order. The position of the next event
/// to apply is a checkpoint committed in the same transaction as the rows, so a crash at any
/// point neither loses nor repeats an event's effect. When following, nothing stops it but what
/// cannot heal (a damaged journal, a revoked grant): a target that refuses writes, Zoho failing a
/// re-read, or a failure nobody foresaw is reported, shown in health, and tried again with growing
/// waits; an event that cannot be applied at all is quarantined with its reason and skipped.
/// </summary>
public sealed class JournalApplier(
    IJournal journal,
    ISink sink,
    DeskClient client,
    IReadOnlyDictionary<string, TableSchema> schemas,
    ILogger? logger = null)
{
    public const string Stream = JournalCheckpoint.Stream;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private long _applied;
    private long _ignored;
    private long _targetFailures;
    private long _failures;
    private long _quarantined;
    private int _attempt; // failed tries in the current outage
    private DateTimeOffset? _failingSince;

    public long EventsApplied => Interlocked.Read(ref _applied);

    public long EventsIgnored => Interlocked.Read(ref _ignored);

    public long Rereads => Changes.Rereads;

    /// <summary>Events that could not be applied at all: kept in the quarantine with the reason, and skipped.</summary>
    public long EventsQuarantined => Interlocked.Read(ref _quarantined);

    /// <summary>The eventTime of the last applied event.</summary>
    public DateTimeOffset? LastEventTime { get; private set; }

    /// <summary>The newest event time applied so far (committed with the rows).</summary>
    public DateTimeOffset? Through { get; private set; }

    /// <summary>The journal position of the next event to apply.</summary>
    public JournalPosition Position { get; private set; } = JournalPosition.Start;

    /// <summary>When the applier last committed something or found nothing waiting.</summary>
    public DateTimeOffset? LastProgress { get; private set; }

    /// <summary>Bumped by every write the target refused; see <see cref="TargetError"/>.</summary>
    public long TargetFailures => Interlocked.Read(ref _targetFailures);

    /// <summary>Every failed try, whatever refused (target, Zoho, the unforeseen).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Why the target refuses writes now; null while it takes them.</summary>
    public string? TargetError { get; private set; }

    /// <summary>Why the applier cannot go on now (the target, Zoho, or the unforeseen); null while it works.</summary>
    public string? Error { get; private set; }

    /// <summary>How long to keep retrying a target that refuses writes (null: for ever). Only when following.</summary>
    public TimeSpan? TargetRetryLimit { get; init; }

    /// <summary>The longest wait between two tries (the waits double from 1 s up to this).</summary>
    public TimeSpan TargetRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long applied segments are kept: the receiver rebuilds from them which events it has already (redeliveries).</summary>
    public TimeSpan KeepApplied { get; init; } = ReceivedEvents.DefaultWindow;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How records are read again (whether a new thread's content is read).</summary>
    public SnapshotOptions Reading { get; init; } = new();

    private RecordChanges Changes => _changesMade ??= new RecordChanges(client, sink, Reading, Time, schemas, Quarantined, (e, reason) =>
    {
        Interlocked.Increment(ref _ignored);
        _logger.LogDebug("Ignored {EventType}: {Reason}", e.EventType, reason);
    });

    private RecordChanges? _changesMade;

    /// <summary>Where events that cannot be applied are kept; null: beside the journal.</summary>
    public Quarantine? Quarantine { get; init; }

    /// <summary>Whether this process may still let go of applied records (a shared journal: while it holds the lease); null: always.</summary>
    public Func<bool>? MayLetGo { get; init; }

    /// <summary>Lines for the operator: the target went away, and came back.</summary>
    public event Action<string>? Report;

    /// <summary>
    /// Applies what the journal holds; with <paramref name="follow"/>, keeps applying what arrives
    /// until cancelled, retrying every failure that can heal (each try starts again from the
    /// position committed in the target, so nothing is lost or repeated).
    /// </summary>
    public async Task RunAsync(bool follow, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await ApplyFromCheckpointAsync(follow, cancellationToken);
                return;
            }
            catch (Exception ex) when (follow && !cancellationToken.IsCancellationRequested && CanHeal(ex))
            {
                await WaitToRetryAsync(ex, cancellationToken);
            }
        }
    }

    /// <summary>What a wait can mend; a damaged journal, a revoked grant and a target set up for something else need the operator.</summary>
    private static bool CanHeal(Exception ex) => ex switch
    {
        JournalDamagedException or OperationCanceledException => false,
        SinkException sinkError => sinkError.Retryable,
        ZohoAuthException auth => auth.IsTransient,
        ZohoApiException api => api.Kind is not ZohoFailureKind.AuthExpired,
        _ => true,
    };

    private async Task WaitToRetryAsync(Exception ex, CancellationToken cancellationToken)
    {
        _failingSince ??= Time.GetUtcNow();
        var reason = ex is SinkException or ZohoApiException or ZohoAuthException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
        if (ex is SinkException sinkError)
        {
            if (TargetRetryLimit is { } limit && Time.GetUtcNow() - _failingSince > limit)
            {
                throw new SinkException($"{sinkError.Message} (gave up after retrying for {limit}; the journal keeps every event, so the next run applies them)", sinkError);
            }

            Interlocked.Increment(ref _targetFailures);
            TargetError = ex.Message;
        }

        _attempt++;
        Interlocked.Increment(ref _failures);
        Error = ex is SinkException ? "the target refuses writes: " + reason : ex is ZohoApiException or ZohoAuthException ? "Zoho refuses a re-read: " + reason : "unexpected failure: " + reason;
        var delay = TimeSpan.FromSeconds(Math.Min(TargetRetryMaxDelay.TotalSeconds, Math.Pow(2, Math.Min(_attempt - 1, 16))));
        var what = ex is SinkException ? "the target refused a write" : ex is ZohoApiException or ZohoAuthException ? "Zoho failed a re-read" : "applying failed";
        Report?.Invoke($"warning: {what} (try {_attempt}): {reason.TrimEnd('.')}. Webhooks are still received and journaled; trying again in {delay.TotalSeconds:0.#} s.");
        if (ex is SinkException or ZohoApiException or ZohoAuthException)
        {
            _logger.LogWarning("Applying failed (try {Attempt}): {Reason}", _attempt, reason);
        }
        else
        {
            _logger.LogError(ex, "Applying failed unexpectedly (try {Attempt})", _attempt);
        }

        await Task.Delay(delay, Time, cancellationToken);
    }

    /// <summary>Called after the target took a write (or answered with nothing waiting): ends an outage.</summary>
    private void Progressed()
    {
        LastProgress = Time.GetUtcNow();
        if (Error is null)
        {
            return;
        }

        Report?.Invoke(TargetError is not null ? $"target: writing again after {_attempt} failed tries." : $"applier: applying again after {_attempt} failed tries.");
        _attempt = 0;
        _failingSince = null;
        TargetError = null;
        Error = null;
    }

    private async Task ApplyFromCheckpointAsync(bool follow, CancellationToken cancellationToken)
    {
        foreach (var schema in schemas.Values)
        {
            await sink.EnsureTableAsync(schema, cancellationToken);
        }

        var state = await JournalCheckpoint.ReadAsync(sink, cancellationToken) ?? JournalCheckpoint.Start(journal.Id, 1);
        state.EnsureTakenFrom(await journal.ViewAsync(state.RecordAt, cancellationToken));

        var position = state.Position;
        var index = state.Index;
        Through = state.Through;
        Position = position;
        while (true)
        {
            var progressed = false;
            await foreach (var record in journal.ReadAsync(position, cancellationToken))
            {
                progressed = true;
                await ApplyRecordAsync(record, index, cancellationToken);
                position = record.Next;
                index = 0;
                Position = position;
                Progressed();
            }

            if (!progressed)
            {
                Progressed(); // nothing was waiting: the target answered the checkpoint read, so it is back
            }

            if (MayLetGo?.Invoke() != false)
            {
                await journal.DeleteBeforeAsync(position, Time.GetUtcNow() - KeepApplied, cancellationToken);
            }
            if (!follow)
            {
                return;
            }

            if (!progressed)
            {
                await journal.WaitForDataAsync(position, cancellationToken);
            }
        }
    }

    private async Task ApplyRecordAsync(JournalRecord record, int startIndex, CancellationToken ct)
    {
        var parsed = WebhookBody.Parse(record.Payload, journaled: true);
        foreach (var e in parsed.Events.Skip(startIndex))
        {
            LastEventTime = e.EventTime ?? LastEventTime;
            if (e.EventTime is { } eventTime && (Through is null || eventTime > Through))
            {
                Through = eventTime;
            }
        }

        var batch = new List<(int Index, ChangeEvent Change, WebhookEvent Source)>();
        DeskStream? batchTable = null;
        // An event may change several tables (a ticket and its children). A flush between
        // them commits a checkpoint that still points at this event: every change is
        // idempotent, so an event begun again after a crash comes out the same.
        foreach (var (i, table, change, e) in await Changes.PrepareAsync(parsed.Events, startIndex, ct))
        {
            if (batchTable is not null && batchTable != table && batch.Count > 0)
            {
                await FlushAsync(batchTable, batch, record, StateAt(record, record.Position, i), ct);
                batch = [];
            }

            batchTable = table;
            batch.Add((i, change, e));
        }

        var next = StateAt(record, record.Next, 0);
        if (batch.Count > 0)
        {
            await FlushAsync(batchTable!, batch, record, next, ct);
        }
        else
        {
            await sink.SaveCheckpointAsync(next.ToCheckpoint(), ct);
        }
    }

    /// <summary>The checkpoint after (or, part-way, inside) <paramref name="record"/>: it names that record by its start and CRC.</summary>
    private JournalCheckpoint StateAt(JournalRecord record, JournalPosition next, int index) =>
        new(journal.Id, next.Segment, next.Offset, index, record.Position.Segment, record.Position.Offset, record.Crc, Through);

    /// <summary>
    /// Applies a table's run of events with the checkpoint that follows them. When the target
    /// refuses it for a reason a wait will not mend, the events are applied one by one — each with
    /// the checkpoint just after it, so that each step is still atomic — and the one the target
    /// will not take is quarantined.
    /// </summary>
    private async Task FlushAsync(DeskStream table, List<(int Index, ChangeEvent Change, WebhookEvent Source)> batch, JournalRecord record, JournalCheckpoint next, CancellationToken ct)
    {
        try
        {
            await sink.ApplyAsync(schemas[table.Name], [.. batch.Select(b => b.Change)], next.ToCheckpoint(), ct);
            Interlocked.Add(ref _applied, batch.Count);
            return;
        }
        catch (Exception ex) when (!Transient(ex))
        {
            _logger.LogWarning("The target refused {Count} events of {Table} ({Reason}); applying them one by one.", batch.Count, table.Name, ex.Message);
        }

        for (var i = 0; i < batch.Count; i++)
        {
            var after = i == batch.Count - 1 ? next : StateAt(record, record.Position, batch[i + 1].Index);
            try
            {
                await sink.ApplyAsync(schemas[table.Name], [batch[i].Change], after.ToCheckpoint(), ct);
                Interlocked.Increment(ref _applied);
            }
            catch (Exception ex) when (!Transient(ex))
            {
                Quarantined(batch[i].Source, $"the target will not take it: {ex.GetType().Name}: {ex.Message}");
                await sink.SaveCheckpointAsync(after.ToCheckpoint(), ct);
            }
        }
    }

    /// <summary>A failure that says nothing about the event: the target or the network away, a stop, another process's later lease term.</summary>
    private static bool Transient(Exception ex) => ex is OperationCanceledException or ZohoApiException or ZohoAuthException or JournalDamagedException or SinkException { Retryable: true } or SinkException { Fenced: true };

    private void Quarantined(WebhookEvent e, string reason)
    {
        Interlocked.Increment(ref _quarantined);
        var raw = e.Raw.ValueKind == System.Text.Json.JsonValueKind.Undefined ? Encoding.UTF8.GetBytes(e.Payload.GetRawText()) : Encoding.UTF8.GetBytes(e.Raw.GetRawText());
        try
        {
            var path = (Quarantine ?? new Quarantine(Path.Combine(journal.Location, "quarantine"))).Keep(raw, "unapplied", $"{e.EventType}: {reason}");
            Report?.Invoke($"warning: an event could not be applied and was quarantined ({e.EventType}: {reason}); it is kept in {path}. The next events are applied.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Report?.Invoke($"warning: an event could not be applied ({e.EventType}: {reason}), nor kept in the quarantine ({ex.Message}). The next events are applied.");
        }
    }
}
