using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Tests.Support;

/// <summary>The common set-up of realtime tests: options on a free loopback port, and a run that has reached streaming.</summary>
internal static class Realtime
{
    public static RealtimeSyncOptions Options(TestPortal portal, string dir, IReadOnlyList<DeskStream> tables, string token) => new()
    {
        Tables = tables,
        Server = new WebhookServerOptions { Listen = "http://127.0.0.1:0" },
        JournalDirectory = Path.Combine(dir, "journal"),
        Token = token,
        OrgId = portal.Emulator.Portal.OrgId,
    };

    /// <summary>Starts the full load and the apply loop; returns once events are being applied.</summary>
    public static async Task<(Task Run, CancellationTokenSource Stop)> StartStreamingAsync(RealtimeSync sync)
    {
        var stop = new CancellationTokenSource();
        var run = sync.RunAsync(null, stop.Token);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!sync.Streaming)
        {
            if (run.IsFaulted || DateTime.UtcNow > deadline)
            {
                await run;
                throw new TimeoutException("The full load did not finish.");
            }

            await Task.Delay(10);
        }

        return (run, stop);
    }

    /// <summary>Every delivery made, and everything the source's JetStream stream holds applied by <paramref name="applier"/>.</summary>
    public static async Task SettledOnJetStreamAsync(NatsCluster cluster, TestPortal portal, RealtimeSync applier, string source)
    {
        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
        await using var connection = cluster.Connect();
        await using var journal = await Nats.JetStreamJournal.OpenAsync(connection, Nats.JetStreamJournalOptions.For(source), CancellationToken.None);
        var end = (await journal.ViewAsync(null, CancellationToken.None)).End;
        await Eventually.UntilAsync(() => applier.Applier is { } x && x.Position >= end, $"the applier to reach {end}", deadline: TimeSpan.FromSeconds(60));
    }
}
