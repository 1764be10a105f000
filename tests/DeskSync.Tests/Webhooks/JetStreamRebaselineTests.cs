using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Nats;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;
using NATS.Client.JetStream;

namespace DeskSync.Tests.Webhooks;

/// <summary>A target whose JetStream stream was deleted and made again is put back on its feet without skipping anything.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class JetStreamRebaselineTests(NatsCluster cluster) : IClassFixture<NatsCluster>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-js-rebase-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_target_reads_what_changed_from_Zoho_and_follows_the_new_stream_from_its_end()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var db = Path.Combine(_dir, "target.db");
        await using ISink sink = new SqliteSink(db, SinkMode.Flat);
        await new ZohoDesk.Snapshot.FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
        await using var nats = cluster.Connect();
        var options = JetStreamJournalOptions.For("rebase-" + Guid.NewGuid().ToString("N")[..8]);
        string oldId;
        await using (var old = await JetStreamJournal.OpenAsync(nats, options, CancellationToken.None))
        {
            oldId = old.Id;
            await old.AppendAsync("[]"u8.ToArray());
        }

        var appliedUpTo = DateTimeOffset.UtcNow;
        await sink.SaveCheckpointAsync(new JournalCheckpoint(oldId, 2, 0, 0, Through: appliedUpTo).ToCheckpoint(), CancellationToken.None);

        // The stream is lost and made again; deliveries arrive into it; a ticket changed meanwhile.
        await new NatsJSContext(nats).DeleteStreamAsync(options.Stream);
        await using var remade = await JetStreamJournal.OpenAsync(nats, options, CancellationToken.None);
        await remade.AppendAsync("[{\"eventType\":\"Ticket_Update\"}]"u8.ToArray());
        await remade.AppendAsync("[{\"eventType\":\"Ticket_Update\",\"n\":2}]"u8.ToArray());
        var ticket = portal.Emulator.Portal.List("tickets")[0]["id"]!.GetValue<string>();
        portal.Emulator.Portal.Update("tickets", ticket, new JsonObject { ["subject"] = "changed while the stream was lost" });
        Assert.Contains("lost, replaced or moved", (await JournalCheckpoint.ReadAsync(sink, CancellationToken.None))!.MismatchWith(await remade.ViewAsync(null, CancellationToken.None)));

        var result = await JournalRebaseline.FollowFromNowAsync(client, sink, [DeskStreams.Tickets], remade, reconcile: false, null, CancellationToken.None);

        var checkpoint = (await JournalCheckpoint.ReadAsync(sink, CancellationToken.None))!;
        Assert.Equal(remade.Id, checkpoint.JournalId);
        Assert.Equal(new DeskSync.Core.Journal.JournalPosition(3, 0), checkpoint.Position); // after the two records the poll covered
        Assert.Null(checkpoint.MismatchWith(await remade.ViewAsync(checkpoint.RecordAt, CancellationToken.None)));
        Assert.Equal(appliedUpTo, result.Since);
        await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT subject FROM tickets WHERE id = $id";
        read.Parameters.AddWithValue("$id", ticket);
        Assert.Equal("changed while the stream was lost", await read.ExecuteScalarAsync());
    }
}
