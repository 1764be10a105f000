using System.Text;
using DeskSync.Core;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Tests.Webhooks;

/// <summary>Every kind of event is ordered by the record's own modifiedTime when it carries one, else by the event's time.</summary>
[Trait(Lanes.Key, Lanes.Fast)]
public sealed class OrderingRuleTests
{
    private static readonly DateTimeOffset Early = DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly DateTimeOffset Late = DateTimeOffset.Parse("2026-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    public static TheoryData<string, string> Kinds => new()
    {
        { "Ticket_Add", "" },
        { "Ticket_Update", "" },
        { "Ticket_Update", ",\"isDeleted\":true" },
        { "Contact_Update", ",\"isTrashed\":\"true\"" },
        { "Ticket_Delete", "" },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_records_modifiedTime_orders_the_event_whichever_of_the_two_times_is_later(string type, string extra)
    {
        foreach (var (modified, eventTime) in new[] { (Early, Late), (Late, Early) })
        {
            var mapped = Map(type, $"\"modifiedTime\":\"{modified:O}\"{extra}", eventTime);

            Assert.Equal(EventAction.Apply, mapped.Action);
            Assert.Equal(modified, mapped.Change!.ModifiedTime);
        }
    }

    [Theory]
    [InlineData("Ticket_Delete", "", ChangeOp.Delete)]
    [InlineData("Ticket_Update", ",\"isDeleted\":true", ChangeOp.Delete)]
    public void Without_a_modifiedTime_a_delete_is_ordered_by_the_event_time(string type, string extra, ChangeOp op)
    {
        var mapped = Map(type, "\"subject\":\"x\"" + extra, Late);

        Assert.Equal(op, mapped.Change!.Op);
        Assert.Equal(Late, mapped.Change.ModifiedTime);
    }

    private static MappedEvent Map(string type, string fields, DateTimeOffset eventTime)
    {
        var body = $"[{{\"eventType\":\"{type}\",\"orgId\":\"1\",\"eventTime\":\"{eventTime.ToUnixTimeMilliseconds()}\",\"payload\":{{\"id\":\"42\",{fields}}}}}]";
        var parsed = WebhookBody.Parse(Encoding.UTF8.GetBytes(body));
        Assert.Equal(BodyKind.Events, parsed.Kind);
        return WebhookEventMapper.Map(parsed.Events.Single());
    }
}
