using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Catalog;
using DeskSync.ZohoDesk.Snapshot;
using Microsoft.Extensions.Logging;

namespace DeskSync.ZohoDesk.Webhooks;

public sealed record RealtimeSyncOptions
{
    public required IReadOnlyList<DeskTable> Tables { get; init; }

    public SnapshotOptions Snapshot { get; init; } = new();

    public WebhookServerOptions Server { get; init; } = new();

    public required string JournalDirectory { get; init; }

    public required string Token { get; init; }

    public required string OrgId { get; init; }

    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Refuse deliveries without a valid X-ZDesk-JWT.</summary>
    public WebhookJwtVerifier? Jwt { get; init; }
}

/// <summary>
/// The data source's incremental mode (snapshot + stream): the receiver starts first and journals
/// every delivery; then the full load runs (completed tables are skipped); then the journal is
/// applied from its committed position and followed. Changes made during the full load wait in
/// the journal and are applied after it, where the modifiedTime guard keeps whichever version of
/// a row is newest. A restart continues from the journal's committed position.
/// </summary>
public sealed class RealtimeSync(DeskClient client, ISink sink, RealtimeSyncOptions options, ILoggerFactory? loggers = null) : IAsyncDisposable
{
    public DurableJournal? Journal { get; private set; }

    public WebhookServer? Server { get; private set; }

    public JournalApplier? Applier { get; private set; }

    /// <summary>Set once the full load finished and the applier started.</summary>
    public bool Streaming { get; private set; }

    public async Task StartReceiverAsync(CancellationToken cancellationToken)
    {
        Journal = DurableJournal.Open(options.JournalDirectory);
        Server = await WebhookServer.StartAsync(options.Server, Journal, new WebhookReceiverOptions
        {
            Token = options.Token,
            OrgId = options.OrgId,
            MaxBodyBytes = options.MaxBodyBytes,
            QuarantineDirectory = Path.Combine(options.JournalDirectory, "quarantine"),
            Jwt = options.Jwt,
        }, loggers, cancellationToken);
    }

    /// <summary>Full load, then apply the journal until cancelled (or, with <paramref name="follow"/> false, to its end).</summary>
    public async Task<IReadOnlyList<TableLoadResult>> RunAsync(IFullLoadProgress? progress, CancellationToken cancellationToken, bool follow = true)
    {
        if (Server is null)
        {
            await StartReceiverAsync(cancellationToken);
        }

        var load = new FullLoad(client, sink, options.Snapshot);
        var results = await load.RunAsync(options.Tables, progress, cancellationToken);
        var schemas = options.Tables.ToDictionary(t => t.Name, t => FullLoad.SchemaOf(t, load.Fields), StringComparer.Ordinal);
        Applier = new JournalApplier(Journal!, sink, client, schemas, loggers?.CreateLogger<JournalApplier>());
        Streaming = true;
        try
        {
            await Applier.RunAsync(follow, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: everything applied so far is committed with its position.
        }

        return results;
    }

    /// <summary>Waits until everything journaled so far is applied.</summary>
    public async Task WaitCaughtUpAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Applier is null || Applier.Position < Journal!.End || Journal.PendingBytes > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The applier is at {Applier?.Position}, the journal ends at {Journal?.End}.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Journal is not null)
        {
            await Journal.DisposeAsync();
        }
    }
}
