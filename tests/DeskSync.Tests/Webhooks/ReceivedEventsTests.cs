using System.Text;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Webhooks;

/// <summary>The receiver's memory of what it journaled: repeats, appends under way, failures, and its window and capacity.</summary>
[Trait(Lanes.Key, Lanes.Fast)]
public sealed class ReceivedEventsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_repeat_waits_for_the_append_under_way_and_a_failed_append_is_forgotten()
    {
        var received = new ReceivedEvents(TimeSpan.FromHours(1), 100, _time);
        var first = received.Claim(Events(1, 2));
        var second = received.Claim(Events(2, 3));

        Assert.Equal([0, 1], first.Fresh);
        Assert.Equal([1], second.Fresh); // event 3 only
        Assert.Equal(1, second.Repeats);
        var wait = Assert.Single(second.Waits);
        Assert.False(wait.IsCompleted);

        received.Failed(first);
        Assert.False(await wait); // the repeat's delivery must get a 503 too
        Assert.Equal([0], received.Claim(Events(1)).Fresh); // Zoho's next try is taken
    }

    [Fact]
    public void Events_are_remembered_for_the_window_and_up_to_the_capacity()
    {
        var received = new ReceivedEvents(TimeSpan.FromHours(1), 3, _time);
        received.Journaled(received.Claim(Events(1)));
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Empty(received.Claim(Events(1)).Fresh);

        _time.Advance(TimeSpan.FromMinutes(2));
        var again = received.Claim(Events(1));
        Assert.Single(again.Fresh); // past the window: forgotten
        received.Journaled(again);

        received.Journaled(received.Claim(Events(10, 11, 12, 13)));
        received.Journaled(received.Claim(Events(14)));
        Assert.True(received.Count <= 4, $"{received.Count} remembered");
        Assert.Single(received.Claim(Events(10)).Fresh); // the oldest went first
        Assert.Empty(received.Claim(Events(14)).Fresh);
    }

    private static List<WebhookEvent> Events(params int[] ids) =>
        [.. WebhookBody.Parse(Encoding.UTF8.GetBytes("[" + string.Join(',', ids.Select(i => $"{{\"eventType\":\"Ticket_Update\",\"eventTime\":\"1700000000000\",\"payload\":{{\"id\":\"{i}\"}}}}")) + "]")).Events];
}
