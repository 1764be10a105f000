using System.Security.Cryptography;

namespace DeskSync.Emulator.Accounts;

/// <summary>
/// Zoho Accounts as the Desk API sees it: Self Client grant codes (short-lived, single use),
/// refresh tokens that live until revoked, access tokens valid one hour, and Zoho's limits
/// (10 access tokens per refresh token per 10 minutes, 20 refresh tokens per client,
/// 10 grant codes per client per 10 minutes). Errors are answered the Zoho way: HTTP 200
/// with an "error" key (see shared/docs/zoho-desk-api.md §1).
/// </summary>
public sealed class OAuthServer(TimeProvider time, EmulatorOptions options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SelfClient> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GrantCode> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RefreshToken> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AccessToken> _accessTokens = new(StringComparer.Ordinal);

    public int AccessTokensIssued { get; private set; }

    public SelfClient RegisterClient(string clientId, string clientSecret, string orgId)
    {
        lock (_gate)
        {
            var client = new SelfClient(clientId, clientSecret, orgId);
            _clients[clientId] = client;
            return client;
        }
    }

    public IReadOnlyCollection<SelfClient> Clients
    {
        get
        {
            lock (_gate)
            {
                return [.. _clients.Values];
            }
        }
    }

    /// <summary>What "Generate Code" in the API console does. Null when the client is unknown
    /// or has minted 10 codes in the last 10 minutes.</summary>
    public GrantCode? MintGrantCode(string clientId, IReadOnlyList<string> scopes, TimeSpan lifetime)
    {
        lock (_gate)
        {
            if (!_clients.TryGetValue(clientId, out var client))
            {
                return null;
            }

            var now = time.GetUtcNow();
            client.CodeMints.RemoveAll(t => now - t >= TimeSpan.FromMinutes(10));
            if (client.CodeMints.Count >= 10)
            {
                return null;
            }

            client.CodeMints.Add(now);
            var code = new GrantCode("1000." + Token(32) + "." + Token(32), clientId, [.. scopes], now + lifetime);
            _codes[code.Code] = code;
            return code;
        }
    }

    public Dictionary<string, object?> Exchange(IReadOnlyDictionary<string, string> form)
    {
        form.TryGetValue("grant_type", out var grantType);
        form.TryGetValue("client_id", out var clientId);
        form.TryGetValue("client_secret", out var secret);
        lock (_gate)
        {
            if (clientId is null || !_clients.TryGetValue(clientId, out var client))
            {
                return Error("invalid_client");
            }

            if (!string.Equals(secret, client.ClientSecret, StringComparison.Ordinal))
            {
                return Error("invalid_client_secret");
            }

            var now = time.GetUtcNow();
            switch (grantType)
            {
                case "authorization_code":
                {
                    if (!form.TryGetValue("code", out var codeText) || !_codes.TryGetValue(codeText, out var code)
                        || code.Used || code.ExpiresAt <= now || code.ClientId != clientId)
                    {
                        return Error("invalid_code");
                    }

                    code.Used = true;
                    var refresh = new RefreshToken("1000." + Token(32) + "." + Token(32), clientId, code.Scopes, now);
                    _refreshTokens[refresh.Token] = refresh;
                    EnforceRefreshTokenLimit(clientId);
                    var access = Issue(refresh, now);
                    var answer = TokenAnswer(access, refresh.Scopes);
                    answer["refresh_token"] = refresh.Token;
                    return answer;
                }

                case "refresh_token":
                {
                    if (!form.TryGetValue("refresh_token", out var rt) || !_refreshTokens.TryGetValue(rt, out var refresh)
                        || refresh.Revoked || refresh.ClientId != clientId)
                    {
                        return Error("invalid_code");
                    }

                    refresh.Issued.RemoveAll(t => now - t >= TimeSpan.FromMinutes(10));
                    if (refresh.Issued.Count >= options.AccessTokensPerRefreshTokenPer10Minutes)
                    {
                        return new Dictionary<string, object?>
                        {
                            ["error_description"] = "You have made too many requests continuously. Please try again after some time.",
                            ["error"] = "Access Denied",
                            ["status"] = "failure",
                        };
                    }

                    return TokenAnswer(Issue(refresh, now), refresh.Scopes);
                }

                default:
                    return Error("unsupported_grant_type");
            }
        }
    }

    /// <summary>POST /oauth/v2/token/revoke?token=… revokes a refresh token and its access tokens.</summary>
    public bool Revoke(string token)
    {
        lock (_gate)
        {
            if (_refreshTokens.TryGetValue(token, out var refresh))
            {
                refresh.Revoked = true;
                foreach (var a in _accessTokens.Values.Where(a => a.RefreshToken == token))
                {
                    a.Revoked = true;
                }

                return true;
            }

            if (_accessTokens.TryGetValue(token, out var access))
            {
                access.Revoked = true;
                return true;
            }

            return false;
        }
    }

    /// <summary>Fault injection: every live access token stops working (as if Zoho revoked them).</summary>
    public int RevokeAllAccessTokens()
    {
        lock (_gate)
        {
            var live = _accessTokens.Values.Where(a => !a.Revoked).ToList();
            live.ForEach(a => a.Revoked = true);
            return live.Count;
        }
    }

    public AccessCheck CheckAccessToken(string? token)
    {
        lock (_gate)
        {
            if (token is null || !_accessTokens.TryGetValue(token, out var access) || access.Revoked
                || access.ExpiresAt <= time.GetUtcNow()
                || !_refreshTokens.TryGetValue(access.RefreshToken, out var refresh) || refresh.Revoked)
            {
                return new AccessCheck(false, null, []);
            }

            return new AccessCheck(true, _clients[refresh.ClientId].OrgId, refresh.Scopes);
        }
    }

    private AccessToken Issue(RefreshToken refresh, DateTimeOffset now)
    {
        refresh.Issued.Add(now);
        var access = new AccessToken("1000." + Token(32) + "." + Token(32), refresh.Token, now + options.AccessTokenLifetime);
        _accessTokens[access.Token] = access;
        AccessTokensIssued++;
        return access;
    }

    private void EnforceRefreshTokenLimit(string clientId)
    {
        // Zoho keeps 20 refresh tokens per user and client; the 21st silently revokes the oldest.
        var live = _refreshTokens.Values.Where(r => r.ClientId == clientId && !r.Revoked).OrderBy(r => r.Created).ToList();
        foreach (var old in live.Take(Math.Max(0, live.Count - 20)))
        {
            Revoke(old.Token);
        }
    }

    private Dictionary<string, object?> TokenAnswer(AccessToken access, string[] scopes) => new()
    {
        ["access_token"] = access.Token,
        ["scope"] = string.Join(' ', scopes),
        ["api_domain"] = options.ApiDomain,
        ["token_type"] = "Bearer",
        ["expires_in"] = (int)options.AccessTokenLifetime.TotalSeconds,
    };

    private static Dictionary<string, object?> Error(string error) => new() { ["error"] = error };

    private static string Token(int hexChars) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(hexChars / 2));
}

public sealed record SelfClient(string ClientId, string ClientSecret, string OrgId)
{
    internal List<DateTimeOffset> CodeMints { get; } = [];
}

public sealed record GrantCode(string Code, string ClientId, string[] Scopes, DateTimeOffset ExpiresAt)
{
    public bool Used { get; internal set; }
}

internal sealed record RefreshToken(string Token, string ClientId, string[] Scopes, DateTimeOffset Created)
{
    public List<DateTimeOffset> Issued { get; } = [];

    public bool Revoked { get; set; }
}

internal sealed record AccessToken(string Token, string RefreshToken, DateTimeOffset ExpiresAt)
{
    public bool Revoked { get; set; }
}

public sealed record AccessCheck(bool Valid, string? OrgId, string[] Scopes);
