using DeskSync.Emulator;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Regions;

namespace DeskSync.Tests.Support;

/// <summary>An emulator on loopback plus a DeskSync client connected to it through a real grant-code exchange.</summary>
internal sealed class TestPortal : IAsyncDisposable
{
    private readonly List<IDisposable> _disposables = [];

    private TestPortal(ZohoDeskEmulator emulator) => Emulator = emulator;

    public ZohoDeskEmulator Emulator { get; }

    public ZohoEndpoints Endpoints => ZohoEndpoints.For(ZohoDataCenter.Parse("US"), Emulator.BaseUrl.ToString(), Emulator.BaseUrl.ToString());

    public static async Task<TestPortal> StartAsync(EmulatorOptions? options = null) =>
        new(await ZohoDeskEmulator.StartAsync(options ?? new EmulatorOptions { Counts = Small }));

    public static TableCounts Small => new() { Tickets = 30, Contacts = 20, Accounts = 8, Products = 12, Contracts = 9, Tasks = 10, Agents = 5, Teams = 2, Departments = 2 };

    public ZohoTokenManager TokenManager(ITokenStore store, TimeProvider? time = null, string? secret = null, string? clientId = null)
    {
        var http = new HttpClient();
        _disposables.Add(http);
        return new ZohoTokenManager(http, Endpoints, new OAuthClientCredentials(clientId ?? Emulator.Client.ClientId, secret ?? Emulator.Client.ClientSecret), store, time);
    }

    /// <summary>A connected client: exchanges a fresh grant code, then builds the Desk client.</summary>
    public async Task<DeskClient> ConnectAsync(DeskClientOptions? options = null, TimeProvider? time = null, DeskHttp.RetryObserver? onRetry = null, IReadOnlyList<string>? scopes = null)
    {
        var tokens = TokenManager(new InMemoryTokenStore(), time);
        await tokens.ExchangeGrantCodeAsync(Emulator.MintGrantCode(scopes).Code, CancellationToken.None);
        return Client(tokens, options, time, onRetry);
    }

    public DeskClient Client(IAccessTokenSource tokens, DeskClientOptions? options = null, TimeProvider? time = null, DeskHttp.RetryObserver? onRetry = null)
    {
        options ??= FastRetries(Emulator.Portal.OrgId);
        var log = new ApiCallLog();
        var http = DeskHttp.CreateClient(options, log, time, onRetry: onRetry);
        _disposables.Add(http);
        return new DeskClient(http, Endpoints, tokens, options, log);
    }

    public static DeskClientOptions FastRetries(string orgId) => new()
    {
        OrgId = orgId,
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        CreditReserve = 0,
    };

    public async ValueTask DisposeAsync()
    {
        _disposables.ForEach(d => d.Dispose());
        await Emulator.DisposeAsync();
    }
}
