using System.Text;
using DeskSync.Core.Journal;
using DeskSync.Nats;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Journal;

/// <summary>A NATS server killed with SIGKILL while records are appended and read: nothing acknowledged is lost.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class JetStreamFailoverTests : IAsyncLifetime
{
    private readonly NatsCluster _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task Appends_sent_again_until_acknowledged_survive_killing_each_server_in_turn_and_are_read_once_in_order()
    {
        var options = JetStreamJournalOptions.For("failover");
        await using var writerConnection = _cluster.Connect();
        await using var readerConnection = _cluster.Connect();
        await using var writer = await JetStreamJournal.OpenAsync(writerConnection, options, CancellationToken.None);
        await using var reader = await JetStreamJournal.OpenAsync(readerConnection, options, CancellationToken.None);

        var acknowledged = new List<string>();
        var refused = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var read = new List<string>();
        var position = JournalPosition.Start;
        async Task ReadAllAsync()
        {
            while (true)
            {
                try
                {
                    await foreach (var record in reader.ReadAsync(position, stop.Token))
                    {
                        read.Add(Encoding.UTF8.GetString(record.Payload));
                        position = record.Next;
                    }

                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A server went away under the reader: start again from where it stands, as the applier does.
                    await Task.Delay(100, stop.Token);
                }
            }
        }

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 60; i++)
            {
                if (i == 20)
                {
                    _cluster.Kill(round); // mid-stream, as a crash would
                }

                // As Zoho does with a delivery that got no 200: the same bytes again until one is acknowledged.
                var text = $"round {round} record {i}";
                while (true)
                {
                    try
                    {
                        await writer.AppendAsync(Encoding.UTF8.GetBytes(text), stop.Token);
                        acknowledged.Add(text);
                        break;
                    }
                    catch (JournalUnavailableException)
                    {
                        refused++;
                        await Task.Delay(50, stop.Token);
                    }
                }
            }

            await ReadAllAsync();
            _cluster.Start(round);
            await _cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));
        }

        await ReadAllAsync();
        // Every record once, in order: a refused append that JetStream had stored after all was
        // de-duplicated when it was sent again.
        Assert.Equal(180, acknowledged.Count);
        Assert.Equal(acknowledged, read);

        // The stream's leader moved with each kill: the journal is still the same journal to a checkpoint.
        await using var again = await JetStreamJournal.OpenAsync(readerConnection, options, CancellationToken.None);
        Assert.Equal(writer.Id, again.Id);
    }
}
