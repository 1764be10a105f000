using System.Net.Http.Json;
using System.Text.Json;
using DeskSync.ZohoDesk.Regions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeskSync.ZohoDesk.Auth;

/// <summary>The Self Client's id and secret. ToString never shows the secret.</summary>
public sealed record OAuthClientCredentials(string ClientId, string ClientSecret)
{
    public override string ToString() => $"OAuthClientCredentials {{ ClientId = {ClientId}, ClientSecret = *** }}";
}

public interface IAccessTokenSource
{
    /// <summary>A valid access token, refreshed ahead of expiry.</summary>
    ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken);

    /// <summary>Zoho refused <paramref name="rejected"/> (INVALID_OAUTH): get a new one, once,
    /// however many callers report the same rejected token.</summary>
    Task<string> RenewAsync(string rejected, CancellationToken cancellationToken);
}

/// <summary>
/// Zoho OAuth for a Self Client (facts page §1): exchanges a grant code once for a refresh
/// token, then mints access tokens from it. Zoho allows 10 access tokens per refresh token in
/// 10 minutes, so the access token is cached (in the token store, across restarts), refreshed
/// only shortly before it expires, and by one caller at a time.
/// </summary>
public sealed class ZohoTokenManager : IAccessTokenSource
{
    private readonly HttpClient _http;
    private readonly ZohoEndpoints _endpoints;
    private readonly OAuthClientCredentials _credentials;
    private readonly ITokenStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private StoredTokens? _tokens;

    public ZohoTokenManager(
        HttpClient http,
        ZohoEndpoints endpoints,
        OAuthClientCredentials credentials,
        ITokenStore store,
        TimeProvider? time = null,
        ILogger? logger = null)
    {
        _http = http;
        _endpoints = endpoints;
        _credentials = credentials;
        _store = store;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Refresh when the access token has less than this left (default 5 minutes).</summary>
    public TimeSpan RefreshAhead { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Access tokens this process obtained from Zoho (grant exchange included).</summary>
    public int TokensMinted { get; private set; }

    /// <summary>Exchanges a Self Client grant code (valid 3–10 minutes, once) for a refresh token
    /// and stores both tokens.</summary>
    public async Task<StoredTokens> ExchangeGrantCodeAsync(string grantCode, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(grantCode);
        var answer = await PostAsync(
            new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["client_id"] = _credentials.ClientId,
                ["client_secret"] = _credentials.ClientSecret,
                ["code"] = grantCode.Trim(),
            },
            isExchange: true,
            cancellationToken);
        var refresh = answer.GetPropertyOrNull("refresh_token")
            ?? throw new ZohoAuthException(AuthFailure.Unexpected, "Zoho accepted the grant code but sent no refresh token. Generate a new code with the scopes DeskSync lists and try again.");
        await _refreshGate.WaitAsync(cancellationToken);
        StoredTokens tokens;
        try
        {
            var previous = _tokens ?? await _store.LoadAsync(cancellationToken) ?? new StoredTokens();
            tokens = Merge(previous, answer) with { RefreshToken = refresh };
            _tokens = tokens;
            await _store.SaveAsync(tokens, cancellationToken);
        }
        finally
        {
            _refreshGate.Release();
        }

        _logger.LogInformation("Exchanged the grant code for a refresh token (scopes: {Scope}).", tokens.Scope);
        return tokens;
    }

    public async ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        var current = _tokens;
        if (IsFresh(current))
        {
            return current!.AccessToken!;
        }

        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            _tokens ??= await _store.LoadAsync(cancellationToken);
            if (IsFresh(_tokens))
            {
                return _tokens!.AccessToken!;
            }

            return await RefreshLockedAsync(cancellationToken);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    public async Task<string> RenewAsync(string rejected, CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            _tokens ??= await _store.LoadAsync(cancellationToken);
            if (_tokens?.AccessToken is { } token && token != rejected && IsFresh(_tokens))
            {
                return token; // another caller renewed it already
            }

            _logger.LogInformation("Zoho refused the access token (INVALID_OAUTH); refreshing it once.");
            return await RefreshLockedAsync(cancellationToken);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private bool IsFresh(StoredTokens? tokens) =>
        tokens is { AccessToken: not null, AccessTokenExpiresAt: { } expires } && expires - _time.GetUtcNow() > RefreshAhead;

    private async Task<string> RefreshLockedAsync(CancellationToken cancellationToken)
    {
        var refresh = _tokens?.RefreshToken
            ?? throw new ZohoAuthException(AuthFailure.NotConnected, "This data source is not connected yet: run `desksync auth` with a grant code from the API console's Self Client.");
        var answer = await PostAsync(
            new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["client_id"] = _credentials.ClientId,
                ["client_secret"] = _credentials.ClientSecret,
                ["refresh_token"] = refresh,
            },
            isExchange: false,
            cancellationToken);
        _tokens = Merge(_tokens!, answer) with { Scope = answer.GetPropertyOrNull("scope") ?? _tokens!.Scope };
        await _store.SaveAsync(_tokens, cancellationToken);
        _logger.LogDebug("Refreshed the access token; it expires at {ExpiresAt:O}.", _tokens.AccessTokenExpiresAt);
        return _tokens.AccessToken!;
    }

    /// <summary>The stored record with the answer's access token (other fields, such as the client secret, kept).</summary>
    private StoredTokens Merge(StoredTokens stored, JsonElement answer)
    {
        var access = answer.GetPropertyOrNull("access_token")
            ?? throw new ZohoAuthException(AuthFailure.Unexpected, "Zoho Accounts answered without an access token.");
        var expiresIn = answer.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) ? seconds : 3600;
        TokensMinted++;
        return stored with
        {
            AccessToken = access,
            AccessTokenExpiresAt = _time.GetUtcNow().AddSeconds(expiresIn),
            Scope = answer.GetPropertyOrNull("scope"),
        };
    }

    private async Task<JsonElement> PostAsync(Dictionary<string, string> form, bool isExchange, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            using var content = new FormUrlEncodedContent(form);
            response = await _http.PostAsync(_endpoints.TokenUrl, content, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ZohoAuthException(AuthFailure.Unexpected, $"Could not reach Zoho Accounts at {_endpoints.AccountsUrl}: {ex.Message.TrimEnd('.')}. Check the data centre and the network.", ex);
        }

        using (response)
        {
            JsonElement body;
            try
            {
                body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            }
            catch (JsonException ex)
            {
                throw new ZohoAuthException(AuthFailure.Unexpected, $"Zoho Accounts answered HTTP {(int)response.StatusCode} with a body that is not JSON.", ex);
            }

            // Zoho reports token errors with HTTP 200 and an "error" key: always read the body.
            if (body.ValueKind == JsonValueKind.Object && body.GetPropertyOrNull("error") is { } error)
            {
                throw Map(error, body.GetPropertyOrNull("error_description"), isExchange);
            }

            if (!response.IsSuccessStatusCode || body.ValueKind != JsonValueKind.Object)
            {
                throw new ZohoAuthException(AuthFailure.Unexpected, $"Zoho Accounts answered HTTP {(int)response.StatusCode}. Try again later.");
            }

            return body;
        }
    }

    private ZohoAuthException Map(string error, string? description, bool isExchange) => error switch
    {
        "invalid_code" when isExchange => new(AuthFailure.GrantCodeInvalid,
            "The grant code has expired or was already used (Zoho accepts each code once, within the 3–10 minutes chosen when it was made). "
            + "Generate a new one in the API console (Self Client → Generate Code) and use it right away."),
        "invalid_code" => new(AuthFailure.RefreshTokenInvalid,
            "Zoho no longer accepts this data source's refresh token: it was revoked, or replaced because the client has more than 20 refresh tokens. "
            + "Connect again: `desksync auth` with a new grant code."),
        "invalid_client" => new(AuthFailure.ClientUnknown,
            $"Zoho Accounts at {_endpoints.AccountsUrl.Host} does not know the client ID {_credentials.ClientId}. "
            + "Check the client ID in the API console, and that the data centre is the one your Zoho account lives in."),
        "invalid_client_secret" => new(AuthFailure.ClientSecretWrong,
            "The client secret does not match the client ID. Copy it again from the API console (Self Client → Client Secret)."),
        _ when error.Contains("denied", StringComparison.OrdinalIgnoreCase) || (description?.Contains("too many requests", StringComparison.OrdinalIgnoreCase) ?? false) =>
            new(AuthFailure.Throttled,
                "Zoho refused to issue another access token: it allows 10 per refresh token in 10 minutes. Wait a few minutes and try again; "
                + "DeskSync caches access tokens so that this should not recur."),
        _ => new(AuthFailure.Unexpected, $"Zoho Accounts refused the request: {error}{(description is null ? "" : " — " + description)}."),
    };
}

internal static class JsonElementExtensions
{
    public static string? GetPropertyOrNull(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
