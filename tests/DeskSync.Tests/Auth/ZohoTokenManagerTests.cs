using DeskSync.Emulator;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Auth;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Auth;

/// <summary>OAuth against the emulator's accounts server, with one fake clock for both sides.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ZohoTokenManagerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    private TestPortal _portal = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, Time = _time, GrantCodeLifetime = TimeSpan.FromMinutes(3) });
        _dir = Directory.CreateTempSubdirectory("desksync-auth-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Grant_code_exchange_stores_the_refresh_token_owner_only()
    {
        var path = Path.Combine(_dir, "secrets", "default.json");
        var tokens = _portal.TokenManager(new FileTokenStore(path), _time);

        var stored = await tokens.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);

        Assert.NotNull(stored.RefreshToken);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        var reloaded = await new FileTokenStore(path).LoadAsync(CancellationToken.None);
        Assert.Equal(stored.RefreshToken, reloaded!.RefreshToken);
        Assert.DoesNotContain(stored.RefreshToken!, stored.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grant_code_works_once()
    {
        var code = _portal.Emulator.MintGrantCode().Code;
        await _portal.TokenManager(new InMemoryTokenStore(), _time).ExchangeGrantCodeAsync(code, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<ZohoAuthException>(() =>
            _portal.TokenManager(new InMemoryTokenStore(), _time).ExchangeGrantCodeAsync(code, CancellationToken.None));

        Assert.Equal(AuthFailure.GrantCodeInvalid, ex.Failure);
        Assert.Contains("Generate a new one", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(code, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_grant_code_is_refused_with_what_to_do()
    {
        var code = _portal.Emulator.MintGrantCode().Code;
        _time.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<ZohoAuthException>(() =>
            _portal.TokenManager(new InMemoryTokenStore(), _time).ExchangeGrantCodeAsync(code, CancellationToken.None));

        Assert.Equal(AuthFailure.GrantCodeInvalid, ex.Failure);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task A_wrong_secret_and_an_unknown_client_are_told_apart()
    {
        var wrongSecret = await Assert.ThrowsAsync<ZohoAuthException>(() =>
            _portal.TokenManager(new InMemoryTokenStore(), _time, secret: "not-the-secret").ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None));
        var unknownClient = await Assert.ThrowsAsync<ZohoAuthException>(() =>
            _portal.TokenManager(new InMemoryTokenStore(), _time, clientId: "1000.UNKNOWN").ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None));

        Assert.Equal(AuthFailure.ClientSecretWrong, wrongSecret.Failure);
        Assert.Equal(AuthFailure.ClientUnknown, unknownClient.Failure);
        Assert.DoesNotContain("not-the-secret", wrongSecret.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_access_token_is_cached_across_restarts()
    {
        var path = Path.Combine(_dir, "tokens.json");
        var first = _portal.TokenManager(new FileTokenStore(path), _time);
        await first.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        var token = await first.GetAccessTokenAsync(CancellationToken.None);
        var issued = _portal.Emulator.OAuth.AccessTokensIssued;

        _time.Advance(TimeSpan.FromMinutes(30));
        var restarted = _portal.TokenManager(new FileTokenStore(path), _time);
        var again = await restarted.GetAccessTokenAsync(CancellationToken.None);

        Assert.Equal(token, again);
        Assert.Equal(issued, _portal.Emulator.OAuth.AccessTokensIssued);
        Assert.Equal(0, restarted.TokensMinted);
    }

    [Fact]
    public async Task The_access_token_is_refreshed_ahead_of_expiry_by_one_caller_however_many_wait()
    {
        var tokens = _portal.TokenManager(new InMemoryTokenStore(), _time);
        await tokens.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        var first = await tokens.GetAccessTokenAsync(CancellationToken.None);
        var issued = _portal.Emulator.OAuth.AccessTokensIssued;

        _time.Advance(TimeSpan.FromMinutes(54)); // 6 minutes left: still fresh
        Assert.Equal(first, await tokens.GetAccessTokenAsync(CancellationToken.None));

        _time.Advance(TimeSpan.FromMinutes(2)); // 4 minutes left: inside the 5-minute margin
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => tokens.GetAccessTokenAsync(CancellationToken.None).AsTask()));

        Assert.Single(results.Distinct());
        Assert.NotEqual(first, results[0]);
        Assert.Equal(issued + 1, _portal.Emulator.OAuth.AccessTokensIssued);
    }

    [Fact]
    public async Task Renewing_a_rejected_token_refreshes_once_for_all_callers()
    {
        var tokens = _portal.TokenManager(new InMemoryTokenStore(), _time);
        await tokens.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        var rejected = await tokens.GetAccessTokenAsync(CancellationToken.None);
        var issued = _portal.Emulator.OAuth.AccessTokensIssued;

        var renewed = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => tokens.RenewAsync(rejected, CancellationToken.None)));

        Assert.Single(renewed.Distinct());
        Assert.NotEqual(rejected, renewed[0]);
        Assert.Equal(issued + 1, _portal.Emulator.OAuth.AccessTokensIssued);
    }

    [Fact]
    public async Task Zoho_throttles_more_than_ten_access_tokens_in_ten_minutes()
    {
        var tokens = _portal.TokenManager(new InMemoryTokenStore(), _time);
        await tokens.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        var current = await tokens.GetAccessTokenAsync(CancellationToken.None);
        for (var i = 1; i < 10; i++)
        {
            current = await tokens.RenewAsync(current, CancellationToken.None);
        }

        var ex = await Assert.ThrowsAsync<ZohoAuthException>(() => tokens.RenewAsync(current, CancellationToken.None));
        Assert.Equal(AuthFailure.Throttled, ex.Failure);
        Assert.True(ex.IsTransient);

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.NotEqual(current, await tokens.RenewAsync(current, CancellationToken.None));
    }

    [Fact]
    public async Task A_revoked_refresh_token_says_to_connect_again()
    {
        var store = new InMemoryTokenStore();
        var tokens = _portal.TokenManager(store, _time);
        var stored = await tokens.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        _portal.Emulator.OAuth.Revoke(stored.RefreshToken!);
        _time.Advance(TimeSpan.FromHours(1));

        var ex = await Assert.ThrowsAsync<ZohoAuthException>(() => tokens.GetAccessTokenAsync(CancellationToken.None).AsTask());

        Assert.Equal(AuthFailure.RefreshTokenInvalid, ex.Failure);
        Assert.Contains("desksync auth", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_21st_refresh_token_of_a_client_silently_revokes_the_oldest()
    {
        var first = _portal.TokenManager(new InMemoryTokenStore(), _time);
        var oldest = await first.ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            if (i % 9 == 8)
            {
                _time.Advance(TimeSpan.FromMinutes(10)); // 10 grant codes per 10 minutes
            }

            await _portal.TokenManager(new InMemoryTokenStore(), _time).ExchangeGrantCodeAsync(_portal.Emulator.MintGrantCode().Code, CancellationToken.None);
        }

        _time.Advance(TimeSpan.FromHours(2));
        var ex = await Assert.ThrowsAsync<ZohoAuthException>(() => first.GetAccessTokenAsync(CancellationToken.None).AsTask());
        Assert.Equal(AuthFailure.RefreshTokenInvalid, ex.Failure);
        Assert.NotNull(oldest.RefreshToken);
    }

    [Fact]
    public async Task Token_errors_come_as_HTTP_200_with_an_error_key()
    {
        using var raw = new RawHttp(_portal.Emulator);

        var answer = await raw.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = _portal.Emulator.Client.ClientId,
            ["client_secret"] = _portal.Emulator.Client.ClientSecret,
            ["code"] = "1000.bogus.code",
        });

        Assert.Equal("invalid_code", answer["error"]!.GetValue<string>());
    }
}
