using System.Text;
using DeskSync.Core.Journal;
using DeskSync.Nats;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Webhooks;
using NATS.Client.JetStream;

namespace DeskSync.Tests.Journal;

/// <summary>The journal on a real three-server JetStream cluster: what the applier and the receiver rely on.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class JetStreamJournalTests(NatsCluster cluster) : IClassFixture<NatsCluster>
{
    private static JetStreamJournalOptions NewStream() => JetStreamJournalOptions.For("test-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Acknowledged_appends_are_read_back_in_order_with_their_crc_from_any_position()
    {
        await using var connection = cluster.Connect();
        var options = NewStream();
        await using var journal = await JetStreamJournal.OpenAsync(connection, options, CancellationToken.None);

        var positions = new List<JournalPosition>();
        for (var i = 0; i < 50; i++)
        {
            positions.Add(await journal.AppendAsync(Encoding.UTF8.GetBytes($"record {i}")));
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(s => new JournalPosition(s, 0)), positions);
        Assert.Equal(new JournalPosition(51, 0), journal.End);
        var all = await journal.ReadAsync(JournalPosition.Start).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"record {i}"), all.Select(r => Encoding.UTF8.GetString(r.Payload)));
        Assert.All(all, r => Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(r.Payload), r.Crc));
        Assert.All(all, r => Assert.Equal(new JournalPosition(r.Position.Segment + 1, 0), r.Next));

        var tail = await journal.ReadAsync(new JournalPosition(41, 0)).ToListAsync();
        Assert.Equal(Enumerable.Range(40, 10).Select(i => $"record {i}"), tail.Select(r => Encoding.UTF8.GetString(r.Payload)));
        Assert.Empty(await journal.ReadAsync(journal.End).ToListAsync());
    }

    [Fact]
    public async Task The_same_delivery_appended_twice_by_two_processes_is_stored_once()
    {
        var options = NewStream();
        await using var first = cluster.Connect(cluster.UrlOf(0));
        await using var second = cluster.Connect(cluster.UrlOf(2));
        await using var a = await JetStreamJournal.OpenAsync(first, options, CancellationToken.None);
        await using var b = await JetStreamJournal.OpenAsync(second, options, CancellationToken.None);
        Assert.Equal(a.Id, b.Id);

        var once = await a.AppendAsync("[{\"eventType\":\"Ticket_Add\"}]"u8.ToArray());
        var again = await b.AppendAsync("[{\"eventType\":\"Ticket_Add\"}]"u8.ToArray());
        var other = await b.AppendAsync("[{\"eventType\":\"Ticket_Update\"}]"u8.ToArray());

        Assert.Equal(once, again);
        Assert.Equal(2, (await a.ReadAsync(JournalPosition.Start).ToListAsync()).Count);
        Assert.Equal(new JournalPosition(2, 0), other);
    }

    [Fact]
    public async Task A_reader_waiting_at_the_end_wakes_when_another_process_appends()
    {
        var options = NewStream();
        await using var readerConnection = cluster.Connect(cluster.UrlOf(1));
        await using var writerConnection = cluster.Connect(cluster.UrlOf(0));
        await using var reader = await JetStreamJournal.OpenAsync(readerConnection, options, CancellationToken.None);
        await using var writer = await JetStreamJournal.OpenAsync(writerConnection, options, CancellationToken.None);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var waiting = reader.WaitForDataAsync(JournalPosition.Start, deadline.Token);
        Assert.False(waiting.IsCompleted);
        await writer.AppendAsync("late"u8.ToArray());
        await waiting;

        var read = await reader.ReadAsync(JournalPosition.Start).ToListAsync();
        Assert.Equal("late", Encoding.UTF8.GetString(Assert.Single(read).Payload));
        Assert.Equal(read[0], reader.Peek(JournalPosition.Start));
    }

    [Fact]
    public async Task Letting_go_of_applied_records_keeps_the_one_the_checkpoint_names()
    {
        await using var connection = cluster.Connect();
        var options = NewStream() with { PurgeEvery = 1 };
        await using var journal = await JetStreamJournal.OpenAsync(connection, options, CancellationToken.None);
        var records = new List<JournalRecord>();
        for (var i = 0; i < 10; i++)
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes($"r{i}"));
        }

        records.AddRange(await journal.ReadAsync(JournalPosition.Start).ToListAsync());
        var applied = records[6]; // the checkpoint is taken after the seventh record
        await journal.DeleteBeforeAsync(applied.Next, writtenBefore: null, CancellationToken.None);

        var left = await journal.ReadAsync(JournalPosition.Start).ToListAsync();
        Assert.Equal(["r6", "r7", "r8", "r9"], left.Select(r => Encoding.UTF8.GetString(r.Payload)));
        var checkpoint = new JournalCheckpoint(journal.Id, applied.Next.Segment, 0, 0, applied.Position.Segment, applied.Position.Offset, applied.Crc);
        Assert.Null(checkpoint.MismatchWith(await journal.ViewAsync(checkpoint.RecordAt, CancellationToken.None)));
        var older = new JournalCheckpoint(journal.Id, records[2].Next.Segment, 0, 0, records[2].Position.Segment, 0, records[2].Crc);
        Assert.Contains("never applied are missing", older.MismatchWith(await journal.ViewAsync(older.RecordAt, CancellationToken.None)));
    }

    [Fact]
    public async Task Letting_go_after_the_first_record_removes_nothing_still_to_apply()
    {
        // The applier's first purge comes after its first record: "below the first record" is
        // nothing. (JetStream empties the whole stream when asked to purge below sequence 1.)
        await using var connection = cluster.Connect();
        await using var journal = await JetStreamJournal.OpenAsync(connection, NewStream() with { PurgeEvery = 1 }, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes($"r{i}"));
        }

        var first = (await journal.ReadAsync(JournalPosition.Start).ToListAsync())[0];
        await journal.DeleteBeforeAsync(first.Next, writtenBefore: null, CancellationToken.None);
        await journal.DeleteBeforeAsync(first.Position, writtenBefore: null, CancellationToken.None);

        Assert.Equal(["r0", "r1", "r2"], (await journal.ReadAsync(JournalPosition.Start).ToListAsync()).Select(r => Encoding.UTF8.GetString(r.Payload)));
        Assert.Equal(["r1", "r2"], (await journal.ReadAsync(first.Next).ToListAsync()).Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    [Fact]
    public async Task Records_removed_before_they_were_applied_stop_the_reader_instead_of_being_skipped()
    {
        await using var connection = cluster.Connect();
        var options = NewStream();
        await using var journal = await JetStreamJournal.OpenAsync(connection, options, CancellationToken.None);
        for (var i = 0; i < 6; i++)
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes($"r{i}"));
        }

        // Records 3 and 4 removed by hand (or by a limit set on the stream) while the target stands at record 3.
        var js = new NatsJSContext(connection);
        await js.DeleteMessageAsync(options.Stream, new NATS.Client.JetStream.Models.StreamMsgDeleteRequest { Seq = 3 });
        await js.DeleteMessageAsync(options.Stream, new NATS.Client.JetStream.Models.StreamMsgDeleteRequest { Seq = 4 });
        var gap = await Assert.ThrowsAsync<JournalDamagedException>(async () => await journal.ReadAsync(new JournalPosition(3, 0)).ToListAsync());
        Assert.Contains("Records 3 to 4", gap.Message, StringComparison.Ordinal);
        Assert.Contains("rebaseline", gap.Message, StringComparison.Ordinal);

        // Everything before record 5 gone: a reader at record 2 is told so too.
        await js.PurgeStreamAsync(options.Stream, new NATS.Client.JetStream.Models.StreamPurgeRequest { Seq = 5 });
        var purged = await Assert.ThrowsAsync<JournalDamagedException>(async () => await journal.ReadAsync(new JournalPosition(2, 0)).ToListAsync());
        Assert.Contains("Records 2 to 4", purged.Message, StringComparison.Ordinal);
        Assert.Equal(["r4", "r5"], (await journal.ReadAsync(new JournalPosition(5, 0)).ToListAsync()).Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    [Fact]
    public async Task A_stream_deleted_and_made_again_is_another_journal_to_a_checkpoint()
    {
        await using var connection = cluster.Connect();
        var options = NewStream();
        JournalCheckpoint checkpoint;
        await using (var journal = await JetStreamJournal.OpenAsync(connection, options, CancellationToken.None))
        {
            await journal.AppendAsync("one"u8.ToArray());
            var record = (await journal.ReadAsync(JournalPosition.Start).ToListAsync())[0];
            checkpoint = new JournalCheckpoint(journal.Id, record.Next.Segment, 0, 0, record.Position.Segment, 0, record.Crc);
            Assert.Null(checkpoint.MismatchWith(await journal.ViewAsync(checkpoint.RecordAt, CancellationToken.None)));
        }

        await new NatsJSContext(connection).DeleteStreamAsync(options.Stream);
        await using var remade = await JetStreamJournal.OpenAsync(connection, options, CancellationToken.None);
        await remade.AppendAsync("one"u8.ToArray());

        Assert.Contains("was lost, replaced or moved", checkpoint.MismatchWith(await remade.ViewAsync(checkpoint.RecordAt, CancellationToken.None)));
    }

    [Fact]
    public async Task A_record_whose_bytes_differ_from_the_checkpoints_crc_is_told_apart()
    {
        await using var connection = cluster.Connect();
        await using var journal = await JetStreamJournal.OpenAsync(connection, NewStream(), CancellationToken.None);
        await journal.AppendAsync("one"u8.ToArray());
        var checkpoint = new JournalCheckpoint(journal.Id, 2, 0, 0, 1, 0, 12345);

        Assert.Contains("restored from another copy", checkpoint.MismatchWith(await journal.ViewAsync(checkpoint.RecordAt, CancellationToken.None)));
    }
}
