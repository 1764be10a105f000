using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DeskSync.ZohoDesk.Webhooks;

public sealed record JwtCheck(bool Valid, string? Reason);

/// <summary>
/// Optional check of Zoho's X-ZDesk-JWT header (facts page §5): RS256, signed with a key from
/// https://{desk host}/.well-known/jwks.json (by kid), iss "orgId:&lt;orgId&gt;", aud
/// "webhookId:&lt;id&gt;" (one of the configured ids, or any webhook id when none is configured),
/// iat/exp in seconds or milliseconds, within a clock skew. Zoho signs no body, so this proves
/// who sent a delivery, not what it says; the unguessable service URL remains the first defence.
/// </summary>
public sealed class WebhookJwtVerifier(HttpClient http, Uri jwksUrl, string orgId, IReadOnlyCollection<string>? webhookIds = null, TimeSpan? clockSkew = null, TimeProvider? time = null)
{
    private readonly JsonWebTokenHandler _handler = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly TimeSpan _skew = clockSkew ?? TimeSpan.FromMinutes(5);
    private IList<SecurityKey> _keys = [];
    private DateTimeOffset _fetched = DateTimeOffset.MinValue;

    public async Task<JwtCheck> VerifyAsync(string? jwt, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(jwt))
        {
            return new JwtCheck(false, "the X-ZDesk-JWT header is missing");
        }

        JsonWebToken token;
        try
        {
            token = new JsonWebToken(jwt);
        }
        catch (ArgumentException)
        {
            return new JwtCheck(false, "the X-ZDesk-JWT header is not a JWT");
        }

        if (token.Alg != SecurityAlgorithms.RsaSha256)
        {
            return new JwtCheck(false, $"the JWT is signed with {token.Alg}, not RS256");
        }

        var lifetime = CheckLifetime(token);
        if (lifetime is not null)
        {
            return new JwtCheck(false, lifetime);
        }

        if (_keys.Count == 0 || (!_keys.Any(k => k.KeyId == token.Kid) && _time.GetUtcNow() - _fetched > TimeSpan.FromMinutes(1)) || _time.GetUtcNow() - _fetched > TimeSpan.FromHours(1))
        {
            await RefreshKeysAsync(cancellationToken);
        }

        var result = await _handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKeys = _keys,
            ValidIssuer = "orgId:" + orgId,
            ValidateAudience = true,
            AudienceValidator = (audiences, _, _) => audiences.Any(a =>
                a.StartsWith("webhookId:", StringComparison.Ordinal) && (webhookIds is null || webhookIds.Count == 0 || webhookIds.Contains(a["webhookId:".Length..]))),
            ValidateLifetime = false, // checked above: Zoho's times may be milliseconds
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
        });
        return result.IsValid ? new JwtCheck(true, null) : new JwtCheck(false, "the JWT does not validate: " + result.Exception?.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal));
    }

    private string? CheckLifetime(JsonWebToken token)
    {
        var now = _time.GetUtcNow();
        if (!token.TryGetPayloadValue<long>("exp", out var exp))
        {
            return "the JWT has no exp";
        }

        if (Time(exp) is not { } expires)
        {
            return "the JWT's exp is not a time";
        }

        if (expires + _skew < now)
        {
            return "the JWT has expired";
        }

        if (token.TryGetPayloadValue<long>("iat", out var iat) && (Time(iat) is not { } issued || issued - _skew > now))
        {
            return "the JWT was issued in the future";
        }

        return null;
    }

    /// <summary>Seconds or milliseconds since the epoch (both are seen).</summary>
    private static DateTimeOffset? Time(long value) =>
        DeskSync.Core.ValueConverter.FromEpoch(value > 100_000_000_000 || value < -100_000_000_000 ? value : value * 1000);

    private async Task RefreshKeysAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var json = await http.GetStringAsync(jwksUrl, cancellationToken);
            _keys = new JsonWebKeySet(json).GetSigningKeys();
            _fetched = _time.GetUtcNow();
        }
        finally
        {
            _gate.Release();
        }
    }
}
