using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace DeskSync.Emulator.Desk;

/// <summary>How a deleted record is announced (facts page §5: both are seen).</summary>
public enum DeleteEventStyle
{
    /// <summary>A *_Delete event whose payload carries little more than the id.</summary>
    DeleteEvent,

    /// <summary>A *_Update event whose payload sets isDeleted.</summary>
    UpdateWithDeletedFlag,
}

/// <summary>A webhook registered through POST /api/v1/webhooks.</summary>
public sealed class RegisteredWebhook
{
    public required string Id { get; init; }

    public required Uri Url { get; set; }

    public required JsonObject Subscriptions { get; set; }

    public string? Name { get; set; }

    public string? Description { get; set; }

    public bool IsEnabled { get; set; } = true;

    public JsonArray IncludeEventsFrom { get; set; } = [];

    public DateTimeOffset CreatedTime { get; init; }

    internal Channel<JsonObject> Queue { get; } = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleReader = true });

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["url"] = Url.ToString(),
        ["name"] = Name,
        ["description"] = Description,
        ["isEnabled"] = IsEnabled,
        ["subscriptions"] = Subscriptions.DeepClone(),
        ["includeEventsFrom"] = IncludeEventsFrom.DeepClone(),
        ["createdTime"] = Portal.Iso(CreatedTime),
    };
}
