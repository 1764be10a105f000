using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DeskSync.Emulator;

namespace DeskSync.Tests.Support;

/// <summary>Plain HTTP against the emulator, for testing the emulator itself (not through DeskSync's client).</summary>
internal sealed class RawHttp(ZohoDeskEmulator emulator) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = emulator.BaseUrl };

    public HttpClient Http => _http;

    public async Task<string> AccessTokenAsync(IReadOnlyList<string>? scopes = null)
    {
        var answer = await TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = emulator.Client.ClientId,
            ["client_secret"] = emulator.Client.ClientSecret,
            ["code"] = emulator.MintGrantCode(scopes).Code,
        });
        return answer["access_token"]!.GetValue<string>();
    }

    public async Task<JsonObject> TokenAsync(Dictionary<string, string> form)
    {
        using var response = await _http.PostAsync("/oauth/v2/token", new FormUrlEncodedContent(form));
        Assert.Equal(200, (int)response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public async Task<HttpResponseMessage> GetAsync(string pathAndQuery, string? token, string? orgId = "default")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Zoho-oauthtoken", token);
        }

        if (orgId is not null)
        {
            request.Headers.Add("orgId", orgId == "default" ? emulator.Portal.OrgId : orgId);
        }

        return await _http.SendAsync(request);
    }

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> GetJsonAsync(string pathAndQuery, string? token, string? orgId = "default")
    {
        var response = await GetAsync(pathAndQuery, token, orgId);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public void Dispose() => _http.Dispose();
}
