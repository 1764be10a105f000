using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Regions;

namespace DeskSync.ZohoDesk.Api;

/// <summary>
/// The Zoho Desk API (/api/v1) as DeskSync uses it: orgId and the OAuth header on every call,
/// one token renewal on INVALID_OAUTH, Zoho's errors turned into <see cref="ZohoApiException"/>
/// by <see cref="ZohoErrorTable"/>, a credit reserve it refuses to spend, and paged listings
/// as <see cref="IAsyncEnumerable{T}"/>. Retries, Retry-After and the concurrency cap live in
/// the HTTP pipeline (<see cref="DeskHttp"/>).
/// </summary>
public sealed class DeskClient
{
    /// <summary>Zoho refuses list offsets past 4,999 and search offsets past 999 (facts page §2).</summary>
    public const int ListOffsetMax = 4999;

    public const int SearchOffsetMax = 999;

    private readonly HttpClient _http;
    private readonly ZohoEndpoints _endpoints;
    private readonly IAccessTokenSource _tokens;

    public DeskClient(HttpClient http, ZohoEndpoints endpoints, IAccessTokenSource tokens, DeskClientOptions options, ApiCallLog log)
    {
        _http = http;
        _endpoints = endpoints;
        _tokens = tokens;
        Options = options;
        Log = log;
    }

    public DeskClientOptions Options { get; }

    public ApiCallLog Log { get; }

    /// <summary>GET a Desk API path (relative to /api/v1/). Null for HTTP 204 (an empty page).</summary>
    public Task<JsonDocument?> GetAsync(
        string path,
        IEnumerable<KeyValuePair<string, string?>>? query = null,
        string? label = null,
        int expectedWeight = 1,
        bool sendOrgId = true,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, path, null, query, label, expectedWeight, sendOrgId, cancellationToken);

    /// <summary>A Desk API call with an optional JSON body. Null for HTTP 204.</summary>
    public Task<JsonDocument?> SendAsync(
        HttpMethod method,
        string path,
        string? jsonBody = null,
        IEnumerable<KeyValuePair<string, string?>>? query = null,
        string? label = null,
        int expectedWeight = 1,
        bool sendOrgId = true,
        CancellationToken cancellationToken = default) =>
        SendCoreAsync(method, path, jsonBody, query, label, expectedWeight, sendOrgId, static async (content, ct) =>
        {
            if (content.Headers.ContentLength == 0)
            {
                return null;
            }

            await using var stream = await content.ReadAsStreamAsync(ct);
            return await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        }, cancellationToken);

    /// <summary>GET a file's bytes (an attachment's content) into <paramref name="destination"/>; false for HTTP 204.</summary>
    public async Task<bool> DownloadAsync(string path, Stream destination, string? label = null, CancellationToken cancellationToken = default) =>
        await SendCoreAsync<object>(HttpMethod.Get, path, null, null, label, 1, true, async (content, ct) =>
        {
            await content.CopyToAsync(destination, ct);
            return destination;
        }, cancellationToken) is not null;

    private async Task<T?> SendCoreAsync<T>(
        HttpMethod method,
        string path,
        string? jsonBody,
        IEnumerable<KeyValuePair<string, string?>>? query,
        string? label,
        int expectedWeight,
        bool sendOrgId,
        Func<HttpContent, CancellationToken, Task<T?>> read,
        CancellationToken cancellationToken)
        where T : class
    {
        EnsureCreditsAbove(expectedWeight);
        var uri = BuildUri(path, query);
        var token = await _tokens.GetAccessTokenAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, uri);
            if (jsonBody is not null)
            {
                request.Content = new StringContent(jsonBody, Encoding.UTF8, "application/json");
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Zoho-oauthtoken", token);
            if (sendOrgId)
            {
                request.Headers.Add("orgId", Options.OrgId);
            }

            request.Options.Set(DeskHttp.LabelKey, label ?? path);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw new ZohoApiException(ZohoFailureKind.Transient,
                    $"Could not reach Zoho Desk at {_endpoints.DeskUrl.Host} after {Options.MaxRetryAttempts} retries: {ex.Message.TrimEnd('.')}. Check the network, the data centre (or the API URL in the settings) and that the service is up; run again to continue.", inner: ex);
            }
            catch (UnusableAnswerException ex)
            {
                throw new ZohoApiException(ZohoFailureKind.Configuration, $"Zoho Desk answered {method} {path} {ex.Message}", inner: ex);
            }
            catch (Polly.Timeout.TimeoutRejectedException ex)
            {
                throw new ZohoApiException(ZohoFailureKind.Transient,
                    $"Zoho Desk did not answer {method} {path} within {Options.AttemptTimeout.TotalSeconds:0} s, {Options.MaxRetryAttempts} retries included.", inner: ex);
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    return null;
                }

                if (response.IsSuccessStatusCode)
                {
                    return await read(response.Content, cancellationToken);
                }

                var (code, message) = await ReadErrorAsync(response, cancellationToken);
                var outcome = ZohoErrorTable.Classify(response.StatusCode, code);
                if (outcome.Action == ZohoAction.RenewTokenAndRetry && attempt == 0)
                {
                    token = await _tokens.RenewAsync(token, cancellationToken);
                    continue;
                }

                var retryAfter = DeskHttp.RetryAfter(response);
                var text = new StringBuilder()
                    .Append(CultureInfo.InvariantCulture, $"Zoho Desk answered {method} {path} with HTTP {(int)response.StatusCode}")
                    .Append(code is null ? "" : $" {code}")
                    .Append(message is null ? "" : $" (\"{message}\")")
                    .Append(". ").Append(outcome.Advice);
                if (retryAfter is { } wait)
                {
                    text.Append(CultureInfo.InvariantCulture, $" Zoho says to retry after {wait.TotalSeconds:0} s.");
                }

                throw new ZohoApiException(outcome.Kind, text.ToString(), response.StatusCode, code, retryAfter);
            }
        }
    }

    /// <summary>
    /// Every record of a listing, page by page: from 0 (whether Zoho counts from 0 or 1 is
    /// disputed, so pages may overlap by one and records are de-duplicated by id), until a 204
    /// or a short page. Throws <see cref="ZohoFailureKind.OffsetLimit"/> rather than silently
    /// stopping when the next page would pass Zoho's deepest offset.
    /// </summary>
    public async IAsyncEnumerable<JsonElement> ListAsync(
        string path,
        int pageSize,
        IEnumerable<KeyValuePair<string, string?>>? query = null,
        string? label = null,
        string itemsProperty = "data",
        int offsetMax = ListOffsetMax,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var fixedQuery = query?.ToList() ?? [];
        for (var from = 0; ; from += pageSize)
        {
            if (from > offsetMax)
            {
                throw new ZohoApiException(ZohoFailureKind.OffsetLimit,
                    $"The listing {path} holds more than {offsetMax + 1} records, the deepest offset Zoho serves; it must be read in partitions.");
            }

            var pageQuery = new List<KeyValuePair<string, string?>>(fixedQuery)
            {
                new("from", from.ToString(CultureInfo.InvariantCulture)),
                new("limit", pageSize.ToString(CultureInfo.InvariantCulture)),
            };
            using var page = await GetAsync(path, pageQuery, label, expectedWeight: 3, cancellationToken: cancellationToken);
            var items = View(page, itemsProperty);
            if (items.Count == 0)
            {
                yield break;
            }

            foreach (var item in items)
            {
                var id = item.TryGetProperty("id", out var idElement) ? idElement.ToString() : null;
                if (id is null || seen.Add(id))
                {
                    yield return item.Clone();
                }
            }

            if (items.Count < pageSize)
            {
                yield break;
            }
        }
    }

    /// <summary>GET /organizations: the portals the token can see (needs no orgId).</summary>
    public async Task<IReadOnlyList<JsonElement>> GetOrganizationsAsync(CancellationToken cancellationToken = default)
    {
        using var doc = await GetAsync("organizations", label: "organizations", sendOrgId: false, cancellationToken: cancellationToken);
        return Items(doc);
    }

    /// <summary>
    /// The items of a page's array (<c>{"data":[…]}</c>, or another property), each copied out so
    /// that it outlives the page; none for an empty answer (204) or a page without the array.
    /// </summary>
    public static List<JsonElement> Items(JsonDocument? page, string property = "data") => [.. View(page, property).Select(e => e.Clone())];

    /// <summary>
    /// The items of a page's array as views into the page, not copies: valid while the page is
    /// not disposed. For the hot path of a full load, whose pages go to the sink whole.
    /// </summary>
    public static List<JsonElement> View(JsonDocument? page, string property = "data")
    {
        if (page is null || page.RootElement.ValueKind != JsonValueKind.Object || !page.RootElement.TryGetProperty(property, out var items) || items.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var list = new List<JsonElement>(items.GetArrayLength());
        foreach (var item in items.EnumerateArray())
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>GET /ticketsCount with filters such as createdTimeRange.</summary>
    public async Task<long> GetTicketsCountAsync(IEnumerable<KeyValuePair<string, string?>>? filters = null, CancellationToken cancellationToken = default)
    {
        using var doc = await GetAsync("ticketsCount", filters, label: "tickets", cancellationToken: cancellationToken);
        if (doc is null || !doc.RootElement.TryGetProperty("count", out var count))
        {
            return 0;
        }

        return count.ValueKind == JsonValueKind.Number ? count.GetInt64() : long.Parse(count.GetString()!, CultureInfo.InvariantCulture);
    }

    private void EnsureCreditsAbove(int expectedWeight)
    {
        if (Log.RemainingCredits is { } remaining && remaining - expectedWeight < Options.CreditReserve)
        {
            throw new ZohoApiException(ZohoFailureKind.CreditsExhausted,
                $"Stopped before spending the portal's last API credits: {remaining} remain today and the reserve is {Options.CreditReserve}. "
                + "Other integrations share these credits. Continue after Zoho's daily reset, or lower the reserve (creditReserve) if you are sure.");
        }
    }

    private Uri BuildUri(string path, IEnumerable<KeyValuePair<string, string?>>? query)
    {
        var sb = new StringBuilder(path.TrimStart('/'));
        // A path may carry its own query already (a child listed by its parent's id: ticketTags?departmentId=…).
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach (var (key, value) in query ?? [])
        {
            if (value is null)
            {
                continue;
            }

            sb.Append(separator).Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return new Uri(_endpoints.ApiBaseUrl, sb.ToString());
    }

    private static async Task<(string? Code, string? Message)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (text.Length == 0 || text[0] != '{')
            {
                return (null, null);
            }

            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            return (root.GetPropertyOrNull("errorCode"), root.GetPropertyOrNull("message"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }
}
