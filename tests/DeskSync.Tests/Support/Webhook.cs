using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeskSync.Tests.Support;

/// <summary>Hand-made webhook deliveries, as Zoho shapes them, and a free loopback port to receive them on.</summary>
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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
