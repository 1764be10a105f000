using System.Security.Cryptography;
using System.Text;
using DeskSync.Core.Journal;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Journal;

/// <summary>Opening may cut only a torn tail, and keeps its bytes; damage with whole records after it stops, cutting nothing.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class JournalDamageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-damage-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_flipped_byte_in_the_middle_stops_the_open_and_every_byte_is_kept()
    {
        await WriteAsync(100);
        var segment = Directory.GetFiles(_dir, "*.journal").Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(segment, bytes);
        var before = SHA256.HashData(bytes);

        var error = Assert.Throws<JournalDamagedException>(() => DurableJournal.Open(_dir));

        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(segment)));
        Assert.Contains(segment, error.Message, StringComparison.Ordinal);
        Assert.Contains("desksync journal rebaseline", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "damaged")), "nothing was cut, so nothing was set aside");
    }

    [Fact]
    public async Task A_torn_tail_is_cut_and_its_bytes_are_kept_aside()
    {
        await WriteAsync(10);
        var segment = Directory.GetFiles(_dir, "*.journal").Single();
        var whole = new FileInfo(segment).Length;
        var torn = new byte[] { 200, 0, 0, 0, 1, 2, 3, 4, (byte)'[', (byte)'{' };
        await using (var f = new FileStream(segment, FileMode.Append))
        {
            await f.WriteAsync(torn);
        }

        await using var journal = DurableJournal.Open(_dir);

        Assert.Equal(whole, new FileInfo(segment).Length);
        Assert.Equal(10, journal.Read(JournalPosition.Start).Count());
        Assert.NotNull(journal.CutTail);
        Assert.Equal(torn, await File.ReadAllBytesAsync(journal.CutTail));
    }

    [Fact]
    public async Task A_tail_of_zeros_is_a_torn_tail_not_a_run_of_empty_records()
    {
        await WriteAsync(3);
        var segment = Directory.GetFiles(_dir, "*.journal").Single();
        var whole = new FileInfo(segment).Length;
        await using (var f = new FileStream(segment, FileMode.Append))
        {
            await f.WriteAsync(new byte[4096]);
        }

        await using var journal = DurableJournal.Open(_dir);

        Assert.Equal(whole, new FileInfo(segment).Length);
        Assert.Equal(3, journal.Read(JournalPosition.Start).Count());
    }

    [Fact]
    public async Task Damage_in_an_older_segment_is_reported_when_read_and_nothing_after_it_is_returned()
    {
        await using (var journal = DurableJournal.Open(_dir, new JournalOptions { SegmentBytes = 200 }))
        {
            for (var i = 0; i < 20; i++)
            {
                await journal.AppendAsync(Encoding.UTF8.GetBytes($"[{{\"record\":{i},\"padding\":\"xxxxxxxxxxxx\"}}]"));
            }
        }

        var first = Directory.GetFiles(_dir, "*.journal").Order(StringComparer.Ordinal).First();
        var bytes = await File.ReadAllBytesAsync(first);
        bytes[20] ^= 0xFF;
        await File.WriteAllBytesAsync(first, bytes);

        await using var reopened = DurableJournal.Open(_dir, new JournalOptions { SegmentBytes = 200 });
        var read = new List<JournalRecord>();
        var error = Assert.Throws<JournalDamagedException>(() =>
        {
            foreach (var r in reopened.Read(JournalPosition.Start))
            {
                read.Add(r);
            }
        });

        Assert.Empty(read);
        Assert.Contains(first, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_keeps_its_id_across_opens_and_a_new_folder_gets_another()
    {
        string id;
        await using (var journal = DurableJournal.Open(_dir))
        {
            id = journal.Id;
        }

        await using (var again = DurableJournal.Open(_dir))
        {
            Assert.Equal(id, again.Id);
        }

        await using var other = DurableJournal.Open(Path.Combine(_dir, "other"));
        Assert.NotEqual(id, other.Id);
    }

    [Fact]
    public async Task The_backlog_counts_across_segments_and_is_never_negative()
    {
        await using var journal = DurableJournal.Open(_dir, new JournalOptions { SegmentBytes = 100 });
        var positions = new List<JournalPosition>();
        for (var i = 0; i < 12; i++)
        {
            positions.Add(await journal.AppendAsync(Encoding.UTF8.GetBytes($"record-{i:D2}-padding-padding")));
        }

        Assert.True(positions[^1].Segment > 1);
        var total = journal.BytesAfter(JournalPosition.Start);
        Assert.Equal(12 * (8 + "record-00-padding-padding".Length), total);
        Assert.Equal(journal.Read(positions[5]).Sum(r => 8L + r.Payload.Length), journal.BytesAfter(positions[5]));
        Assert.Equal(0, journal.BytesAfter(new JournalPosition(99, 123)));
        Assert.Equal(0, journal.BytesAfter(new JournalPosition(journal.End.Segment, journal.End.Offset + 10_000)));
    }

    private async Task WriteAsync(int count)
    {
        await using var journal = DurableJournal.Open(_dir);
        for (var i = 0; i < count; i++)
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes($"[{{\"eventType\":\"Ticket_Update\",\"payload\":{{\"id\":\"{i}\"}}}}]"));
        }
    }
}
