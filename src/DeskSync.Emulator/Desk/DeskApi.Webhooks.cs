using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Emulator.OpenApi;
using Microsoft.AspNetCore.Http;

namespace DeskSync.Emulator.Desk;

/// <summary>Webhooks by API (Webhook.json): list, get, create, re-point, delete.</summary>
public sealed partial class DeskApi
{
    /// <summary>Webhooks by API (Webhook.json); creating or re-pointing one validates its URL the way Zoho does.</summary>
    private async Task<(int Status, JsonNode? Body)> WebhooksAsync(HttpContext ctx, OpenApiOperation op, Dictionary<string, string> pathValues)
    {
        var id = pathValues.GetValueOrDefault("webhookId");
        switch (op.OperationId)
        {
            case "getWebhooks":
            {
                var all = _webhooks.Webhooks;
                return all.Count == 0 ? (204, null) : (200, new JsonObject { ["data"] = new JsonArray(all.Select(h => (JsonNode)h.ToJson()).ToArray()) });
            }

            case "getWebhook":
                return _webhooks.Get(id!) is { } found ? (200, found.ToJson()) : (404, null);
            case "deleteWebhook":
                return _webhooks.Remove(id!) ? (200, new JsonObject()) : (404, null);
        }

        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null)
        {
            return (422, Problem("EMPTY_PAYLOAD", "The request body is not a JSON object.", "payload"));
        }

        var existing = id is null ? null : _webhooks.Get(id);
        if (id is not null && existing is null)
        {
            return (404, null);
        }

        var urlText = body["url"]?.GetValue<string>() ?? existing?.Url.ToString();
        if (urlText is null || !Uri.TryCreate(urlText, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || urlText.Length > 100)
        {
            return (422, Problem("INVALID_DATA", "The url must be an http(s) URL of at most 100 characters.", "url"));
        }

        var subscriptions = body["subscriptions"] as JsonObject ?? existing?.Subscriptions;
        if (subscriptions is null || subscriptions.Count == 0)
        {
            return (422, Problem("INVALID_DATA", "subscriptions must name at least one event.", "subscriptions"));
        }

        var enabled = body["isEnabled"]?.GetValue<bool>() ?? existing?.IsEnabled ?? true;
        var allowed = _options.Edition.ToUpperInvariant() switch { "FREE" or "STANDARD" or "EXPRESS" => 0, "PROFESSIONAL" => 5, _ => 10 };
        if (enabled && (existing is null || !existing.IsEnabled) && _webhooks.Webhooks.Count(h => h.IsEnabled) >= allowed)
        {
            return (422, Problem("UNPROCESSABLE_ENTITY", $"The {_options.Edition} edition allows {allowed} enabled webhooks.", "isEnabled"));
        }

        if ((existing is null || existing.Url != url) && !await _webhooks.ValidateAsync(url, ctx.RequestAborted))
        {
            return (422, Problem("UNPROCESSABLE_ENTITY", "The URL did not answer the validation GET or POST with HTTP 200.", "url"));
        }

        if (existing is null)
        {
            var hook = _webhooks.Add(url, (JsonObject)subscriptions.DeepClone(), body["name"]?.GetValue<string>(), body["description"]?.GetValue<string>(), enabled, body["includeEventsFrom"]?.DeepClone() as JsonArray);
            return (200, hook.ToJson());
        }

        existing.Url = url;
        existing.Subscriptions = (JsonObject)subscriptions.DeepClone();
        existing.IsEnabled = enabled;
        existing.Name = body["name"]?.GetValue<string>() ?? existing.Name;
        return (200, existing.ToJson());
    }

    private static JsonObject Problem(string code, string message, string field) => new()
    {
        ["errorCode"] = code,
        ["message"] = message,
        ["errors"] = Field(field, "invalid", message),
    };
}
