using System.Globalization;
using System.Text.Json;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// One event of a Zoho Desk webhook delivery (facts page §5). <see cref="Fingerprint"/> is a
/// 64-bit hash of the event's bytes as Zoho sent them: a redelivery sends the same bytes, so the
/// same fingerprint tells the receiver it has this event already.
/// </summary>
public sealed record WebhookEvent(string EventType, string? OrgId, DateTimeOffset? EventTime, JsonElement Payload, JsonElement? PrevState, ulong Fingerprint = 0)
{
    /// <summary>The whole event (type, times, payload) as sent, for rewriting a delivery without its repeated events.</summary>
    public JsonElement Raw { get; init; }
}

public enum BodyKind
{
    /// <summary>No events: Zoho's validation GET/POST, or an empty array. Answer 200.</summary>
    Probe,

    Events,

    Malformed,
}

public sealed record ParsedBody(BodyKind Kind, IReadOnlyList<WebhookEvent> Events, string? Reason)
{
    public static ParsedBody Probe { get; } = new(BodyKind.Probe, [], null);

    public static ParsedBody Malformed(string reason) => new(BodyKind.Malformed, [], reason);
}

/// <summary>
/// Reads a webhook body: a JSON array of events, each with a string eventType and an object
/// payload; eventTime as epoch milliseconds (number or string) or ISO-8601; orgId as string or
/// number. Anything else is malformed, with a reason that says where.
/// </summary>
public static class WebhookBody
{
    /// <summary>A journaled delivery is read as it was accepted, by whatever version accepted it.</summary>
    private static readonly JsonDocumentOptions JournaledOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// A delivery that names a field twice is refused: Zoho never sends one, and which of the two
    /// values is meant cannot be known (JSON readers disagree: the first, the last, or an error).
    /// </summary>
    private static readonly JsonDocumentOptions Options = JournaledOptions with { AllowDuplicateProperties = false };

    /// <param name="journaled">The body comes from the journal, where an earlier version accepted it:
    /// a field named twice, which earlier versions let through, does not make it malformed.</param>
    public static ParsedBody Parse(ReadOnlyMemory<byte> body, bool journaled = false)
    {
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return ParsedBody.Probe;
        }

        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            // JsonDocument only notices bad UTF-8 inside a string when the string is read.
            return ParsedBody.Malformed("the body is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, journaled ? JournaledOptions : Options);
        }
        catch (JsonException ex)
        {
            return ParsedBody.Malformed($"the body is not valid JSON ({ex.Message})");
        }
        catch (ArgumentException ex)
        {
            return ParsedBody.Malformed($"the body is not valid UTF-8 JSON ({ex.Message})");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                // Zoho sends arrays; an object without eventType is a validation probe.
                return root.TryGetProperty("eventType", out _) ? ParseEvents([root.Clone()]) : ParsedBody.Probe;
            }

            if (root.ValueKind != JsonValueKind.Array)
            {
                return ParsedBody.Malformed($"the body is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an array of events");
            }

            try
            {
                return root.GetArrayLength() == 0 ? ParsedBody.Probe : ParseEvents([.. root.EnumerateArray().Select(e => e.Clone())]);
            }
            catch (InvalidOperationException ex)
            {
                return ParsedBody.Malformed($"the body cannot be read as events ({ex.Message})");
            }
        }
    }

    private static ParsedBody ParseEvents(List<JsonElement> items)
    {
        var events = new List<WebhookEvent>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item.ValueKind != JsonValueKind.Object)
            {
                return ParsedBody.Malformed($"event {i} is not an object");
            }

            if (!item.TryGetProperty("eventType", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(type.GetString()))
            {
                return ParsedBody.Malformed($"event {i} has no eventType string");
            }

            if (!item.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object)
            {
                return ParsedBody.Malformed($"event {i} ({type.GetString()}) has no payload object");
            }

            string? orgId = null;
            if (item.TryGetProperty("orgId", out var org))
            {
                orgId = org.ValueKind switch
                {
                    JsonValueKind.String => org.GetString(),
                    JsonValueKind.Number => org.GetRawText(),
                    JsonValueKind.Null => null,
                    _ => "?",
                };
            }

            DateTimeOffset? eventTime = null;
            if (item.TryGetProperty("eventTime", out var time) && time.ValueKind != JsonValueKind.Null)
            {
                eventTime = ParseTime(time);
                if (eventTime is null)
                {
                    return ParsedBody.Malformed($"event {i} has an eventTime that is neither epoch milliseconds nor ISO-8601");
                }
            }

            var prev = item.TryGetProperty("prevState", out var p) && p.ValueKind == JsonValueKind.Object ? p : (JsonElement?)null;
            var fingerprint = System.IO.Hashing.XxHash64.HashToUInt64(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(item));
            events.Add(new WebhookEvent(type.GetString()!, orgId, eventTime, payload, prev, fingerprint) { Raw = item });
        }

        return new ParsedBody(BodyKind.Events, events, null);
    }

    public static DateTimeOffset? ParseTime(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var ms))
        {
            return FromEpoch(ms);
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var text = value.GetString()!;
        if (text.Length > 0 && text.All(char.IsAsciiDigit) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
        {
            return FromEpoch(epoch);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    private static DateTimeOffset? FromEpoch(long ms) => ms >= 0 ? DeskSync.Core.ValueConverter.FromEpoch(ms) : null;
}
