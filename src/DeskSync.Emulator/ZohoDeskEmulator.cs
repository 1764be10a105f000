using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DeskSync.Emulator.Accounts;
using DeskSync.Emulator.Admin;
using DeskSync.Emulator.Desk;
using DeskSync.Emulator.OpenApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeskSync.Emulator;

/// <summary>
/// A fake Zoho (Accounts + Desk API) on a loopback port, in-process or as `desksync emulator`.
/// Accounts and the Desk API share one origin here; the client is pointed at it through its
/// accounts-URL and API-URL overrides, as it would be at a proxy.
/// </summary>
public sealed class ZohoDeskEmulator : IAsyncDisposable
{
    /// <summary>The scopes a full DeskSync setup asks for (facts page §1).</summary>
    public static readonly string[] DefaultScopes =
    [
        "Desk.tickets.ALL", "Desk.search.READ", "Desk.contacts.READ", "Desk.contacts.WRITE", "Desk.contacts.UPDATE",
        "Desk.contacts.CREATE", "Desk.tasks.ALL", "Desk.basic.READ", "Desk.basic.CREATE", "Desk.settings.ALL",
        "Desk.events.ALL", "Desk.calls.READ", "Desk.products.READ", "Desk.articles.READ", "Desk.articles.CREATE", "Desk.articles.UPDATE", "Desk.articles.DELETE",
    ];

    private readonly WebApplication _app;

    private ZohoDeskEmulator(WebApplication app, EmulatorOptions options, SelfClient client)
    {
        _app = app;
        Options = options;
        Client = client;
        Portal = app.Services.GetRequiredService<Portal>();
        OAuth = app.Services.GetRequiredService<OAuthServer>();
        Limits = app.Services.GetRequiredService<ApiLimits>();
        Faults = app.Services.GetRequiredService<Faults>();
        Api = app.Services.GetRequiredService<DeskApi>();
        Webhooks = app.Services.GetRequiredService<WebhookSender>();
    }

    public EmulatorOptions Options { get; }

    public SelfClient Client { get; }

    public Portal Portal { get; }

    public OAuthServer OAuth { get; }

    public ApiLimits Limits { get; }

    public Faults Faults { get; }

    public DeskApi Api { get; }

    public WebhookSender Webhooks { get; }

    private long _compressedAnswers;
    private long _plainAnswers;

    /// <summary>Desk API answers with a body sent compressed (counted only with <see cref="EmulatorOptions.CompressAnswers"/>: to clients that asked).</summary>
    public long CompressedAnswers => Interlocked.Read(ref _compressedAnswers);

    /// <summary>Desk API answers with a body sent plain although the emulator compresses (the client did not ask); counted only with <see cref="EmulatorOptions.CompressAnswers"/>.</summary>
    public long PlainAnswers => Interlocked.Read(ref _plainAnswers);

    /// <summary>e.g. http://127.0.0.1:53123 — serves /oauth/v2/token and /api/v1/….</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<ZohoDeskEmulator> StartAsync(EmulatorOptions? options = null, int port = 0, IPAddress? address = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmulatorOptions();
        // No appsettings.json from the working directory and no file watching: that directory often
        // holds the SQLite target and the journal, and a watcher there woke up on every write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address ?? IPAddress.Loopback, port);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 1 << 20;
        });
        builder.Services.Configure<KestrelServerOptions>(_ => { });

        var oauth = new OAuthServer(options.Time, options);
        var client = oauth.RegisterClient(
            options.ClientId ?? "1000." + RandomToken(30).ToUpperInvariant(),
            options.ClientSecret ?? RandomToken(42),
            options.OrgId);
        var portal = new Portal(options);
        var limits = new ApiLimits(options);
        var faults = new Faults(options.Seed);
        var webhooks = new WebhookSender(portal, options);
        builder.Services.AddSingleton(options).AddSingleton(oauth).AddSingleton(portal).AddSingleton(limits).AddSingleton(faults)
            .AddSingleton(OpenApiCatalog.Instance)
            .AddSingleton(webhooks)
            .AddSingleton(sp => new DeskApi(options, portal, oauth, limits, faults, OpenApiCatalog.Instance, webhooks));

        if (options.CompressAnswers)
        {
            builder.Services.AddResponseCompression(c =>
            {
                c.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>();
                c.Providers.Add<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProvider>();
            });
            builder.Services.Configure<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProviderOptions>(g => g.Level = System.IO.Compression.CompressionLevel.Fastest);
            builder.Services.Configure<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProviderOptions>(b => b.Level = System.IO.Compression.CompressionLevel.Fastest);
        }

        var app = builder.Build();
        var emulator = new ZohoDeskEmulator(app, options, client);
        if (options.CompressAnswers)
        {
            app.Use(async (ctx, next) =>
            {
                await next();
                if (ctx.Request.Path.StartsWithSegments("/api/v1") && ctx.Response.StatusCode != 204)
                {
                    Interlocked.Increment(ref ctx.Response.Headers.ContentEncoding.Count > 0 ? ref emulator._compressedAnswers : ref emulator._plainAnswers);
                }
            });
            app.UseResponseCompression();
        }

        emulator.MapRoutes();
        await app.StartAsync(cancellationToken);
        var url = app.Urls.First();
        emulator.BaseUrl = new Uri(url.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return emulator;
    }

    /// <summary>A fresh grant code, as the API console's Self Client "Generate Code" gives one.</summary>
    public GrantCode MintGrantCode(IReadOnlyList<string>? scopes = null, TimeSpan? lifetime = null) =>
        OAuth.MintGrantCode(Client.ClientId, scopes ?? DefaultScopes, lifetime ?? Options.GrantCodeLifetime)
        ?? throw new InvalidOperationException("Zoho allows 10 grant codes per client in 10 minutes.");

    public async ValueTask DisposeAsync()
    {
        await Webhooks.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void MapRoutes()
    {
        _app.MapPost("/oauth/v2/token", async ctx =>
        {
            var form = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in ctx.Request.Query)
            {
                form[k] = v.ToString();
            }

            if (ctx.Request.HasFormContentType)
            {
                foreach (var (k, v) in await ctx.Request.ReadFormAsync())
                {
                    form[k] = v.ToString();
                }
            }

            // Zoho answers token errors with HTTP 200 and an "error" key.
            await Json(ctx, 200, JsonSerializerNode(OAuth.Exchange(form)));
        });
        _app.MapPost("/oauth/v2/token/revoke", ctx =>
        {
            OAuth.Revoke(ctx.Request.Query["token"].ToString());
            return Json(ctx, 200, new JsonObject { ["status"] = "success" });
        });

        _app.Map("/api/v1/{**rest}", Api.HandleAsync);
        _app.MapGet("/.well-known/jwks.json", ctx => Json(ctx, 200, Webhooks.Jwks()));
        new EmulatorAdminApi(this).Map(_app);
    }

    internal static JsonObject JsonSerializerNode(Dictionary<string, object?> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values)
        {
            o[k] = v switch
            {
                null => null,
                int i => i,
                long l => l,
                bool b => b,
                _ => v.ToString(),
            };
        }

        return o;
    }

    internal static Task Json(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json;charset=UTF-8";
        return ctx.Response.WriteAsync(body.ToJsonString(DeskApi.Json));
    }

    private static string RandomToken(int chars) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes((chars + 1) / 2))[..chars];
}
