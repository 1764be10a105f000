using System.Runtime.InteropServices;
using System.Security.Cryptography;

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
        // A token's length is no secret (every token DeskSync makes has 32 characters); its
        // characters are compared in constant time, without allocating or hashing on each call.
        return presented is not null && presented.Length == expected.Length
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(expected.AsSpan()), MemoryMarshal.AsBytes(presented.AsSpan()));
    }

    /// <summary>The URL to give Zoho: {public base}/hooks/{token}. Zoho allows 100 characters (Webhook.json).</summary>
    public static string Url(string publicBase, string token) => publicBase.TrimEnd('/') + "/hooks/" + token;
}
