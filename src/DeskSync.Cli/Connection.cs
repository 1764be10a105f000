using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;

namespace DeskSync.Cli;

/// <summary>A configured data source's live parts: endpoints, token manager and Desk client.</summary>
internal sealed class Connection : IDisposable
{
    private readonly HttpClient _accountsHttp;
    private readonly HttpClient _apiHttp;

    private Connection(DataSourceConfig source, ZohoTokenManager tokens, HttpClient accountsHttp, HttpClient apiHttp, DeskClient client)
    {
        Source = source;
        Tokens = tokens;
        _accountsHttp = accountsHttp;
        _apiHttp = apiHttp;
        Client = client;
    }

    public DataSourceConfig Source { get; }

    public ZohoTokenManager Tokens { get; }

    public DeskClient Client { get; }

    public static Connection Open(DataSourceConfig source, OAuthClientCredentials credentials, ITokenStore store, TimeProvider? time = null)
    {
        var endpoints = source.Endpoints();
        var accountsHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var tokens = new ZohoTokenManager(accountsHttp, endpoints, credentials, store, time);
        var options = new DeskClientOptions
        {
            OrgId = source.OrgId ?? "",
            MaxConcurrency = DeskClientOptions.ConcurrencyForEdition(source.Edition),
            CreditReserve = source.CreditReserve ?? 1_000,
        };
        var log = new ApiCallLog();
        // Each retry is said as it happens: an unreachable or failing Zoho is not minutes of silence.
        var apiHttp = DeskHttp.CreateClient(options, log, time, onRetry: (attempt, delay, reason) =>
            OutputLog.Warn("retry", $"a call to Zoho Desk failed ({reason}); try {attempt + 2} of {options.MaxRetryAttempts + 1} in {delay.TotalSeconds:0.#} s."));
        return new Connection(source, tokens, accountsHttp, apiHttp, new DeskClient(apiHttp, endpoints, tokens, options, log));
    }

    public void Dispose()
    {
        _accountsHttp.Dispose();
        _apiHttp.Dispose();
    }
}
