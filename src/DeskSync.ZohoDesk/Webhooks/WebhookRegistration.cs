using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// Creates, lists and deletes the portal's webhook for a data source through the Desk API
/// (POST/GET/DELETE /api/v1/webhooks, scope Desk.events.ALL or Desk.settings.ALL). Zoho validates
/// the URL with a GET (then a POST) before it creates the webhook, so the receiver must be up.
/// </summary>
public static class WebhookRegistration
{
    /// <summary>The events DeskSync subscribes to for a table (its stream's, or a child stream's events about its parent; none for tables Zoho sends no events for).</summary>
    public static IReadOnlyList<string> EventsFor(DeskStream table) => table.Events?.Types ?? table.Parent?.Events ?? [];

    public static async Task<JsonElement> RegisterAsync(DeskClient client, string url, IEnumerable<DeskStream> tables, string name, CancellationToken ct)
    {
        var subscriptions = new JsonObject();
        foreach (var e in tables.SelectMany(EventsFor))
        {
            // A module's update carries its previous state on request; a child's update (Ticket_Comment_Update) has no such filter.
            subscriptions[e] = e.EndsWith("_Update", StringComparison.Ordinal) && e.Count(c => c == '_') == 1
                ? new JsonObject { ["includePrevState"] = true }
                : null;
        }

        if (subscriptions.Count == 0)
        {
            throw new ArgumentException("None of the selected tables has webhook events (products, contracts, teams and field definitions are kept current by polling).", nameof(tables));
        }

        var body = new JsonObject
        {
            ["url"] = url,
            ["name"] = name,
            ["description"] = "DeskSync real-time replication",
            ["isEnabled"] = true,
            ["subscriptions"] = subscriptions,
            // Without this, changes made by automation rules may not be sent.
            ["includeEventsFrom"] = new JsonArray("AUTOMATION"),
        };
        using var doc = await client.SendAsync(HttpMethod.Post, "webhooks", body.ToJsonString(), label: "webhooks", cancellationToken: ct);
        return doc!.RootElement.Clone();
    }

    public static async Task<IReadOnlyList<JsonElement>> ListAsync(DeskClient client, CancellationToken ct)
    {
        using var doc = await client.GetAsync("webhooks", label: "webhooks", cancellationToken: ct);
        return DeskClient.Items(doc);
    }

    public static async Task DeleteAsync(DeskClient client, string id, CancellationToken ct)
    {
        using var _ = await client.SendAsync(HttpMethod.Delete, $"webhooks/{Uri.EscapeDataString(id)}", label: "webhooks", cancellationToken: ct);
    }
}
