using System.Security.Cryptography;
using System.Text;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>
/// The secret part of a data source's service URL: 192 random bits, base64url. Zoho signs no
/// body and shares no secret, so this unguessable path is the first line of defence; it is
/// compared in constant time.
/// </summary>
public static class ServiceUrlToken
{
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool Matches(string expected, string? presented)
    {
        // Hash both sides so that the comparison takes the same time whatever their lengths.
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(presented ?? ""));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    /// <summary>The URL to give Zoho: {public base}/hooks/{token}. Zoho allows 100 characters (Webhook.json).</summary>
    public static string Url(string publicBase, string token) => publicBase.TrimEnd('/') + "/hooks/" + token;
}
