using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.ZohoDesk.Sync;

public sealed record RebaselineResult(string? SetAside, string JournalId, DateTimeOffset? Since, IReadOnlyList<PollResult> Polled, IReadOnlyList<ReconcileResult> Reconciled);

/// <summary>
/// Puts a data source whose journal cannot be followed (damaged, lost, replaced, restored from an
/// older copy) back on its feet without skipping anything: the journal folder is set aside whole,
/// every table is read from Zoho from the newest event the target applied (the poll path, with its
/// overlap), deletes are found by an id listing (a delete whose event was in the old journal has no
/// other trace), and the target's checkpoint is moved to the start of a new journal. A crash part
/// way leaves the old checkpoint, so the command is simply run again.
/// </summary>
public static class JournalRebaseline
{
    public static async Task<RebaselineResult> RunAsync(DeskClient client, ISink sink, IReadOnlyList<DeskStream> tables, string journalFolder, bool reconcile, Action<string>? report, CancellationToken ct, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        await sink.InitializeAsync(ct);
        var applied = await JournalCheckpoint.ReadAsync(sink, ct);
        var started = clock.GetUtcNow();
        string? aside = null;
        if (Directory.Exists(journalFolder) && Directory.EnumerateFileSystemEntries(journalFolder).Any())
        {
            aside = $"{journalFolder}.set-aside-{started:yyyyMMdd'T'HHmmssfff}";
            Directory.Move(journalFolder, aside);
            report?.Invoke($"The journal was set aside, every byte kept: {aside}");
        }

        var polled = await new Poller(client, sink, new PollOptions { NotBefore = applied?.Through }, clock).PollOnceAsync(tables, report, ct);
        var reconciled = reconcile ? await new DeleteReconciler(client, sink, time: clock).RunAsync(tables, report, ct) : [];
        await using var journal = DurableJournal.Open(journalFolder);
        await sink.SaveCheckpointAsync((JournalCheckpoint.Start(journal.Id, journal.FirstSegment) with { Through = started }).ToCheckpoint(), ct);
        return new RebaselineResult(aside, journal.Id, applied?.Through, polled, reconciled);
    }

    /// <summary>
    /// The same for a journal shared on JetStream, whose stream cannot be set aside while other
    /// processes receive into it: what it holds now was received before the poll reads Zoho, so
    /// the poll covers it, and the target follows the stream from where it ends now. The caller
    /// holds the data source's lease, so no process applies meanwhile.
    /// </summary>
    public static async Task<RebaselineResult> FollowFromNowAsync(DeskClient client, ISink sink, IReadOnlyList<DeskStream> tables, IJournal journal, bool reconcile, Action<string>? report, CancellationToken ct, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        await sink.InitializeAsync(ct);
        var applied = await JournalCheckpoint.ReadAsync(sink, ct);
        var started = clock.GetUtcNow();
        var end = (await journal.ViewAsync(null, ct)).End;
        var polled = await new Poller(client, sink, new PollOptions { NotBefore = applied?.Through }, clock).PollOnceAsync(tables, report, ct);
        var reconciled = reconcile ? await new DeleteReconciler(client, sink, time: clock).RunAsync(tables, report, ct) : [];
        await sink.SaveCheckpointAsync(new JournalCheckpoint(journal.Id, end.Segment, end.Offset, 0, Through: started).ToCheckpoint(), ct);
        return new RebaselineResult(null, journal.Id, applied?.Through, polled, reconciled);
    }
}
