using System.Globalization;
using System.Text;

namespace DeskSync.Tests.Support;

/// <summary>Hand-made webhook deliveries, as Zoho shapes them, and where a `desksync run` receives them.</summary>
internal static class Webhook
{
    /// <summary>A JSON array of Ticket_Add events, one per id.</summary>
    public static StringContent TicketAdds(string orgId, IEnumerable<string> ids, Func<string, string>? subject = null)
    {
        var events = ids.Select(id => "{\"eventType\":\"Ticket_Add\",\"orgId\":\"" + orgId
            + "\",\"eventTime\":\"" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
            + "\",\"payload\":{\"id\":\"" + id + "\",\"subject\":\"" + (subject?.Invoke(id) ?? "posted " + id)
            + "\",\"modifiedTime\":\"2026-11-27T10:00:00.000Z\",\"cf\":{}}}");
        return new StringContent("[" + string.Join(',', events) + "]", Encoding.UTF8, "application/json");
    }

    /// <summary>
    /// Posts a delivery, as Zoho does, to a receiver that may be killed at any moment: true when it
    /// was acknowledged (200). A connection refused, reset or cut halfway is no acknowledgement,
    /// whichever exception the socket surfaces it as (on Linux a reset right after connecting can
    /// come as a bare SocketException).
    /// </summary>
    public static async Task<bool> TryDeliverAsync(HttpClient http, Uri url, HttpContent body)
    {
        try
        {
            using var response = await http.PostAsync(url, body);
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException or IOException)
        {
            return false;
        }
    }

    /// <summary>The address a `desksync run` started with `--listen http://127.0.0.1:0` says it receives on, once it has said so.</summary>
    public static Uri? ReceivingAt(IEnumerable<string> lines) =>
        lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^Receiving webhooks on (\S+)")).FirstOrDefault(m => m.Success) is { } found
            ? new Uri(found.Groups[1].Value)
            : null;
}
