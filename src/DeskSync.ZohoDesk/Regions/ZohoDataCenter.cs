namespace DeskSync.ZohoDesk.Regions;

/// <summary>
/// Zoho's data centres and their hosts. The token answer's api_domain is the
/// www.zohoapis.* gateway, not the Desk host, so the Desk host comes from this fixed table
/// (shared/docs/zoho-desk-api.md §1, "Data centres").
/// </summary>
public sealed record ZohoDataCenter(string Code, string Name, string AccountsHost, string DeskHost)
{
    public static readonly IReadOnlyList<ZohoDataCenter> All =
    [
        new("US", "United States", "accounts.zoho.com", "desk.zoho.com"),
        new("EU", "Europe", "accounts.zoho.eu", "desk.zoho.eu"),
        new("IN", "India", "accounts.zoho.in", "desk.zoho.in"),
        new("AU", "Australia", "accounts.zoho.com.au", "desk.zoho.com.au"),
        new("JP", "Japan", "accounts.zoho.jp", "desk.zoho.jp"),
        new("CA", "Canada", "accounts.zohocloud.ca", "desk.zohocloud.ca"),
        new("CN", "China", "accounts.zoho.com.cn", "desk.zoho.com.cn"),
        new("SA", "Saudi Arabia", "accounts.zoho.sa", "desk.zoho.sa"),
        new("UK", "United Kingdom", "accounts.zoho.uk", "desk.zoho.uk"),
        new("SG", "Singapore", "accounts.zoho.sg", "desk.zoho.sg"),
        new("AE", "United Arab Emirates", "accounts.zoho.ae", "desk.zoho.ae"),
    ];

    public Uri AccountsUrl => new($"https://{AccountsHost}/");

    public Uri DeskUrl => new($"https://{DeskHost}/");

    /// <summary>Finds a data centre by code ("eu"), accounts host or Desk host; null when unknown.</summary>
    public static ZohoDataCenter? Find(string codeOrHost)
    {
        var key = codeOrHost.Trim().TrimEnd('/');
        if (Uri.TryCreate(key, UriKind.Absolute, out var uri))
        {
            key = uri.Host;
        }

        return All.FirstOrDefault(d =>
            string.Equals(d.Code, key, StringComparison.OrdinalIgnoreCase)
            || string.Equals(d.AccountsHost, key, StringComparison.OrdinalIgnoreCase)
            || string.Equals(d.DeskHost, key, StringComparison.OrdinalIgnoreCase));
    }

    public static ZohoDataCenter Parse(string codeOrHost) =>
        Find(codeOrHost) ?? throw new ArgumentException(
            $"Unknown Zoho data centre '{codeOrHost}'. Use one of: {string.Join(", ", All.Select(d => d.Code))}.", nameof(codeOrHost));
}

/// <summary>Where to send OAuth and Desk API calls: the data centre's hosts, or overrides
/// (the emulator, a proxy, tests).</summary>
public sealed record ZohoEndpoints(Uri AccountsUrl, Uri DeskUrl)
{
    public Uri TokenUrl => new(AccountsUrl, "oauth/v2/token");

    public Uri ApiBaseUrl => new(DeskUrl, "api/v1/");

    public static ZohoEndpoints For(ZohoDataCenter dataCenter, string? accountsUrlOverride = null, string? apiUrlOverride = null) =>
        new(Normalize(accountsUrlOverride) ?? dataCenter.AccountsUrl, Normalize(apiUrlOverride) ?? dataCenter.DeskUrl);

    private static Uri? Normalize(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{url}' is not an http(s) URL.", nameof(url));
        }

        // Accept "https://desk.zoho.com/api/v1" as well as "https://desk.zoho.com".
        var text = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (text.EndsWith("/api/v1", StringComparison.OrdinalIgnoreCase))
        {
            text = text[..^"/api/v1".Length];
        }

        return new Uri(text + "/");
    }
}
