using System.Text.Json;
using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Catalog;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Applies journaled webhook events to the sink in journal order. The position of the next event
/// to apply is a checkpoint committed in the same transaction as the rows, so a crash at any
/// point neither loses nor repeats an event's effect (and applying one twice would change
/// nothing anyway: upserts keep the newest version, deletes leave a tombstone).
/// </summary>
public sealed class JournalApplier(
    DurableJournal journal,
    ISink sink,
    DeskClient client,
    IReadOnlyDictionary<string, TableSchema> schemas,
    ILogger? logger = null)
{
    public const string Stream = JournalCheckpoint.Stream;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private long _applied;
    private long _ignored;
    private long _rereads;
    private long _targetFailures;
    private int _attempt; // failed tries in the current outage
    private DateTime? _failingSince;

    public long EventsApplied => Interlocked.Read(ref _applied);

    public long EventsIgnored => Interlocked.Read(ref _ignored);

    public long Rereads => Interlocked.Read(ref _rereads);

    /// <summary>The eventTime of the last applied event.</summary>
    public DateTimeOffset? LastEventTime { get; private set; }

    /// <summary>The newest event time applied so far (committed with the rows).</summary>
    public DateTimeOffset? Through { get; private set; }

    /// <summary>The journal position of the next event to apply.</summary>
    public JournalPosition Position { get; private set; } = JournalPosition.Start;

    /// <summary>Bumped by every write the target refused; see <see cref="TargetError"/>.</summary>
    public long TargetFailures => Interlocked.Read(ref _targetFailures);

    /// <summary>Why the target refuses writes now; null while it takes them.</summary>
    public string? TargetError { get; private set; }

    /// <summary>How long to keep retrying a target that refuses writes (null: for ever). Only when following.</summary>
    public TimeSpan? TargetRetryLimit { get; init; }

    /// <summary>The longest wait between two tries of a refusing target (the waits double from 1 s up to this).</summary>
    public TimeSpan TargetRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long applied segments are kept: the receiver rebuilds from them which events it has already (redeliveries).</summary>
    public TimeSpan KeepApplied { get; init; } = ReceivedEvents.DefaultWindow;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Lines for the operator: the target went away, and came back.</summary>
    public event Action<string>? Report;

    /// <summary>
    /// Applies what the journal holds; with <paramref name="follow"/>, keeps applying what arrives
    /// until cancelled. When following, a target that refuses writes (a database restarting, a
    /// full disk) is retried with growing waits while the receiver keeps journaling; each try
    /// starts again from the position committed in the target, so nothing is lost or repeated.
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
            catch (SinkException ex) when (follow && ex.Retryable && !cancellationToken.IsCancellationRequested)
            {
                _failingSince ??= DateTime.UtcNow;
                if (TargetRetryLimit is { } limit && DateTime.UtcNow - _failingSince > limit)
                {
                    throw new SinkException($"{ex.Message} (gave up after retrying for {limit}; the journal keeps every event, so the next run applies them)", ex);
                }

                _attempt++;
                Interlocked.Increment(ref _targetFailures);
                TargetError = ex.Message;
                var delay = TimeSpan.FromSeconds(Math.Min(TargetRetryMaxDelay.TotalSeconds, Math.Pow(2, Math.Min(_attempt - 1, 16))));
                Report?.Invoke($"warning: the target refused a write (try {_attempt}): {ex.Message} Webhooks are still received and journaled; trying again in {delay.TotalSeconds:0.#} s.");
                _logger.LogWarning(ex, "Target write failed; retrying in {Delay}", delay);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    /// <summary>Called after the target took a write (or answered with nothing waiting): ends an outage.</summary>
    private void TargetBack()
    {
        if (TargetError is null)
        {
            return;
        }

        Report?.Invoke($"target: writing again after {_attempt} failed tries.");
        _attempt = 0;
        _failingSince = null;
        TargetError = null;
    }

    private async Task ApplyFromCheckpointAsync(bool follow, CancellationToken cancellationToken)
    {
        foreach (var schema in schemas.Values)
        {
            await sink.EnsureTableAsync(schema, cancellationToken);
        }

        var state = await JournalCheckpoint.ReadAsync(sink, cancellationToken) ?? JournalCheckpoint.Start(journal.Id, 1);
        if (state.MismatchWith(journal) is { } mismatch)
        {
            throw new JournalDamagedException($"The journal does not match the target: {mismatch}. Nothing was applied or skipped. Run `desksync journal rebaseline` (with `run` stopped): it reads from Zoho what changed since the last applied event{(state.Through is { } t ? $" ({t:yyyy-MM-dd HH:mm:ss} UTC)" : "")}, and starts the target on the journal as it is now.");
        }

        var position = state.Position;
        var index = state.Index;
        Through = state.Through;
        Position = position;
        while (true)
        {
            var progressed = false;
            foreach (var record in journal.Read(position))
            {
                progressed = true;
                await ApplyRecordAsync(record, index, cancellationToken);
                position = record.Next;
                index = 0;
                Position = position;
                TargetBack();
            }

            if (!progressed)
            {
                TargetBack(); // nothing was waiting: the target answered the checkpoint read, so it is back
            }

            journal.DeleteBefore(position, writtenBefore: Time.GetUtcNow() - KeepApplied);
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
        var batch = new List<ChangeEvent>();
        DeskTable? batchTable = null;
        for (var i = startIndex; i < parsed.Events.Count; i++)
        {
            var mapped = WebhookEventMapper.Map(parsed.Events[i]);
            LastEventTime = parsed.Events[i].EventTime ?? LastEventTime;
            if (parsed.Events[i].EventTime is { } eventTime && (Through is null || eventTime > Through))
            {
                Through = eventTime;
            }

            if (mapped.Action == EventAction.Ignore || mapped.Table is null || !schemas.ContainsKey(mapped.Table.Name))
            {
                Interlocked.Increment(ref _ignored);
                _logger.LogDebug("Ignored {EventType}: {Reason}", parsed.Events[i].EventType, mapped.Reason ?? "table not replicated");
                continue;
            }

            var change = mapped.Action == EventAction.Reread ? await RereadAsync(mapped.Table, mapped.Change!, ct) : mapped.Change!;
            if (batchTable is not null && batchTable != mapped.Table && batch.Count > 0)
            {
                await FlushAsync(batchTable, batch, StateAt(record, record.Position, i), ct);
                batch = [];
            }

            batchTable = mapped.Table;
            batch.Add(change);
        }

        var next = StateAt(record, record.Next, 0);
        if (batch.Count > 0)
        {
            await FlushAsync(batchTable!, batch, next, ct);
        }
        else
        {
            await sink.SaveCheckpointAsync(next.ToCheckpoint(), ct);
        }
    }

    /// <summary>The checkpoint after (or, part-way, inside) <paramref name="record"/>: it names that record by its start and CRC.</summary>
    private JournalCheckpoint StateAt(JournalRecord record, JournalPosition next, int index) =>
        new(journal.Id, next.Segment, next.Offset, index, record.Position.Segment, record.Position.Offset, record.Crc, Through);

    private async Task FlushAsync(DeskTable table, List<ChangeEvent> batch, JournalCheckpoint next, CancellationToken ct)
    {
        await sink.ApplyAsync(schemas[table.Name], batch, next.ToCheckpoint(), ct);
        Interlocked.Add(ref _applied, batch.Count);
    }

    /// <summary>The record as Zoho has it now; gone means deleted.</summary>
    private async Task<ChangeEvent> RereadAsync(DeskTable table, ChangeEvent thin, CancellationToken ct)
    {
        Interlocked.Increment(ref _rereads);
        try
        {
            using var doc = await client.GetAsync($"{table.Path}/{Uri.EscapeDataString(thin.Key)}", label: table.Name, cancellationToken: ct);
            if (doc is null)
            {
                return thin with { Op = ChangeOp.Delete };
            }

            var record = doc.RootElement.Clone();
            var modified = record.TryGetProperty("modifiedTime", out var m) ? ValueConverter.ToTimestamp(m) : thin.ModifiedTime;
            return thin with { Record = record, ModifiedTime = modified, IsPartial = false, Source = "webhook+reread" };
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.NotFound)
        {
            return thin with { Op = ChangeOp.Delete };
        }
    }
}
