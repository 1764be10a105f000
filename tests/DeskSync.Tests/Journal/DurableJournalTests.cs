using System.Text;
using DeskSync.Core.Journal;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Journal;

[Trait(Lanes.Key, Lanes.Integration)]
public sealed class DurableJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-journal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Concurrent_appends_are_all_readable_in_position_order_and_share_flushes()
    {
        await using var journal = DurableJournal.Open(_dir);

        var positions = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => journal.AppendAsync(Encoding.UTF8.GetBytes($"record {i}"))));

        var records = journal.Read(JournalPosition.Start).ToList();
        Assert.Equal(2_000, records.Count);
        Assert.Equal(positions.Order(), records.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => $"record {i}").Order(StringComparer.Ordinal), records.Select(r => Encoding.UTF8.GetString(r.Payload)).Order(StringComparer.Ordinal));
        Assert.True(journal.Flushes < 2_000, $"{journal.Flushes} flushes for 2,000 appends: no group commit");
    }

    [Fact]
    public async Task A_torn_tail_is_cut_off_on_open_and_appends_continue_after_the_last_whole_record()
    {
        await using (var journal = DurableJournal.Open(_dir))
        {
            await journal.AppendAsync("one"u8.ToArray());
            await journal.AppendAsync("two"u8.ToArray());
        }

        var segment = Directory.GetFiles(_dir, "*.journal").Single();
        var whole = new FileInfo(segment).Length;
        await using (var f = new FileStream(segment, FileMode.Append))
        {
            await f.WriteAsync(new byte[] { 200, 0, 0, 0, 1, 2, 3, 4, (byte)'t', (byte)'h' }); // a record cut by a crash
        }

        await using (var journal = DurableJournal.Open(_dir))
        {
            Assert.Equal(whole, new FileInfo(segment).Length);
            await journal.AppendAsync("three"u8.ToArray());
            Assert.Equal(["one", "two", "three"], journal.Read(JournalPosition.Start).Select(r => Encoding.UTF8.GetString(r.Payload)));
        }
    }

    [Fact]
    public async Task Reading_resumes_from_a_position_and_spans_segments()
    {
        await using var journal = DurableJournal.Open(_dir, new JournalOptions { SegmentBytes = 100 });
        for (var i = 0; i < 30; i++)
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes($"r{i:D2}-padding-padding"));
        }

        Assert.True(Directory.GetFiles(_dir, "*.journal").Length > 1);
        var all = journal.Read(JournalPosition.Start).ToList();
        var rest = journal.Read(all[17].Position).Select(r => Encoding.UTF8.GetString(r.Payload)).ToList();

        Assert.Equal(30, all.Count);
        Assert.Equal(13, rest.Count);
        Assert.StartsWith("r17", rest[0], StringComparison.Ordinal);

        journal.DeleteBefore(all[17].Position);
        Assert.Equal(rest, journal.Read(all[17].Position).Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    [Fact]
    public async Task Too_much_pending_is_refused_rather_than_queued_without_bound()
    {
        await using var journal = DurableJournal.Open(_dir, new JournalOptions { MaxPendingBytes = 10 });

        await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync(new byte[11]));
        Assert.Equal(JournalPosition.Start, journal.End);
    }
}
